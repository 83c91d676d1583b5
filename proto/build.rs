//! Compiles `civreg/v1/*.proto` with protox (pure Rust), so no `protoc` has to be installed.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["civreg/v1/oplog.proto", "civreg/v1/sync.proto"];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(files, ["."])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}
