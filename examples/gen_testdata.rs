//! Writes the project's generated test images into `testdata/`.
//!
//! ```sh
//! cargo run --example gen_testdata
//! ```

#[path = "../tests/support/generate.rs"]
mod generate;

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    std::fs::create_dir_all(&dir)?;
    let mut total = 0;
    for (name, bytes) in generate::all() {
        total += bytes.len();
        std::fs::write(dir.join(&name), &bytes)?;
        println!("{:>8}  {name}", bytes.len());
    }
    println!("{total:>8}  total");
    Ok(())
}
