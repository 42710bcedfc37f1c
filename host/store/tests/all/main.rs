//! The store's test story, run against SQLite and against PostgreSQL
//! (`PA_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`,
//! each run in a schema of its own).

mod backends;
mod story;
