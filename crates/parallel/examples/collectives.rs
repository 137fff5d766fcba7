//! Exercised by `tests/mpirun.rs` under `mpirun -np 2`: averages tensors and gathers shares
//! (`average`), or leaves rank 0 waiting for a rank that never arrives (`stall`).
use tch::{Kind, Tensor};
use vidnas_parallel::{connect, LaunchEnv};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let launch = LaunchEnv::from_env()?;
    let comm = connect(launch.as_ref(), None)?;
    let r = comm.rank() as f64;
    match std::env::args().nth(1).as_deref() {
        Some("average") => {
            let a = Tensor::from_slice(&[r, 10.0 * r]).to_kind(Kind::Float);
            let b = Tensor::from_slice(&[1.0 + r, 2.0, 3.0]);
            comm.average_tensors(&[a.shallow_clone(), b.shallow_clone()], "the test tensors")?;
            let shares: Vec<(usize, f64)> = (0..5)
                .filter(|&i| comm.owns(i))
                .map(|i| (i, 100.0 + i as f64 + r / 10.0))
                .collect();
            let gathered = comm.gather_shares(5, &shares, "the test shares")?;
            println!(
                "rank {} of {} ({}): a={:?} b={:?} shares={:?}",
                comm.rank(),
                comm.world_size(),
                comm.backend(),
                Vec::<f32>::try_from(&a)?,
                Vec::<f64>::try_from(&b)?,
                gathered
            );
        }
        Some("stall") => {
            if comm.rank() == 0 {
                let mut v = [1.0];
                comm.sum_f64(&mut v, "the loss of step 7")?;
            } else {
                std::thread::sleep(std::time::Duration::from_secs(30));
            }
        }
        other => return Err(format!("unknown mode {other:?}").into()),
    }
    Ok(())
}
