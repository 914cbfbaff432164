//! `sqlx::migrate!` embeds the migration files when the crate compiles; a new or changed file
//! must make it compile again (sqlx's documented build script).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
