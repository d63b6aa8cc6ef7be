-- The session table of fastify-fleet's MySqlStore (MySQL 8, MariaDB 10.6+): express-mysql-session's
-- layout (express-session + express-mysql-session read and write the same rows), plus the index on
-- `expires` that prunes use. Run it in your migrations, or pass `createTable: true` to the store.
-- On an existing express-mysql-session table, add the index alone:
--   ALTER TABLE `sessions` ADD INDEX `expires` (`expires`);
CREATE TABLE IF NOT EXISTS `sessions` (
  `session_id` varchar(128) COLLATE utf8mb4_bin NOT NULL,
  `expires` int unsigned NOT NULL,
  `data` mediumtext COLLATE utf8mb4_bin,
  PRIMARY KEY (`session_id`),
  KEY `expires` (`expires`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
