-- The session table of fastify-fleet's PostgresStore: connect-pg-simple's layout (express-session
-- + connect-pg-simple read and write the same rows), with the index on "expire" that prunes use.
-- Run it in your migrations, or pass `createTable: true` to the store.
CREATE TABLE IF NOT EXISTS "session" (
  "sid" varchar NOT NULL COLLATE "default",
  "sess" json NOT NULL,
  "expire" timestamp(6) NOT NULL,
  CONSTRAINT "session_pkey" PRIMARY KEY ("sid")
);
CREATE INDEX IF NOT EXISTS "IDX_session_expire" ON "session" ("expire");
