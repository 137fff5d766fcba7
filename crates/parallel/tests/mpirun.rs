//! The MPI backend under a real `mpirun -np 2` (skipped, saying so, where Open MPI's mpirun is
//! not installed).
use std::path::PathBuf;
use std::process::Command;

fn example() -> PathBuf {
    // target/<profile>/deps/mpirun-<hash> → target/<profile>/examples/collectives, which
    // `cargo build --examples` writes (`cargo test --all-targets` builds examples as test
    // harnesses only); scripts/test.sh builds it first.
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/collectives");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p vidnas-parallel --examples` first (scripts/test.sh does)",
        path.display()
    );
    path
}

fn mpirun(mode: &str, extra_env: &[(&str, &str)]) -> Option<std::process::Output> {
    if Command::new("mpirun").arg("--version").output().is_err() {
        eprintln!("SKIPPED: mpirun not found; install Open MPI (apt-get install openmpi-bin libopenmpi-dev)");
        return None;
    }
    let mut cmd = Command::new("mpirun");
    cmd.args(["-np", "2", "--oversubscribe"])
        .arg(example())
        .arg(mode)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMP_NUM_THREADS", "1");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    Some(cmd.output().unwrap())
}

#[test]
fn two_ranks_average_tensors_and_gather_shares() {
    let Some(out) = mpirun("average", &[]) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for rank in 0..2 {
        let line = format!(
            "rank {rank} of 2 (mpi): a=[0.5, 5.0] b=[1.5, 2.0, 3.0] shares=[100.0, 101.1, 102.0, 103.1, 104.0]"
        );
        assert!(stdout.contains(&line), "missing `{line}` in\n{stdout}");
    }
}

#[test]
fn a_rank_that_never_arrives_ends_the_wait_with_an_error_naming_it() {
    let Some(out) = mpirun("stall", &[("VIDNAS_DIST_TIMEOUT_S", "1")]) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("rank 0 of 2 waited 1 s for the loss of step 7")
            && stderr.contains("VIDNAS_DIST_TIMEOUT_S"),
        "{stderr}"
    );
}
