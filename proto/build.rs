//! Compiles `civreg/v1/*.proto` with protox (pure Rust), so no `protoc` has to be installed, and
//! writes the file descriptor set that gRPC server reflection serves.
use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "civreg/v1/oplog.proto",
        "civreg/v1/sync.proto",
        "civreg/v1/review.proto",
        "civreg/v1/search.proto",
    ];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(files, ["."])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("civreg_v1_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}
