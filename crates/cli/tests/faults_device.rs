//! `--device` and `--precision` on the commands after export: a device this machine lacks, or
//! bf16 on the CPU, is refused with a message naming the flag before any file is written.

mod common;
use common::*;

const CONFIG: &str = "configs/tiny-demo.json";
const SPACE: &str = "search-spaces/tiny.json";
const TABLE: &str = "latency-tables/tiny-cpu-2threads.json";

#[test]
fn a_missing_gpu_or_bf16_on_the_cpu_is_refused_before_any_output() {
    let tmp = tempfile::tempdir().unwrap();
    let path = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    // On a machine with GPUs, ask for one it lacks.
    let cuda = if tch::Cuda::is_available() {
        "cuda:64"
    } else {
        "cuda"
    };
    let (ft, di, cl, ev, sa, bench) = (
        path("finetune"),
        path("distill"),
        path("classifier"),
        path("eval"),
        path("sample"),
        path("bench"),
    );
    let clip = format!("{sa}/clip.gif");
    let csv = format!("{bench}/steps.csv");
    let device = |name, args: &[&str], out: &str| {
        Fault::new(name, args)
            .names(&["--device"])
            .fix(&["--device cpu"])
            .out(out)
    };
    let bf16 = |name, args: &[&str], out: &str| {
        Fault::new(name, args)
            .names(&["--precision bf16", "--device"])
            .fix(&["--precision f32"])
            .out(out)
    };
    let cases = [
        device(
            "finetune --device cuda",
            &[
                "finetune", "--config", CONFIG, "--out", &ft, "--device", cuda,
            ],
            &ft,
        ),
        bf16(
            "finetune --precision bf16 on the CPU",
            &[
                "finetune",
                "--config",
                CONFIG,
                "--out",
                &ft,
                "--precision",
                "bf16",
            ],
            &ft,
        ),
        device(
            "distill --device cuda",
            &[
                "distill", "--config", CONFIG, "--out", &di, "--device", cuda,
            ],
            &di,
        ),
        bf16(
            "distill --precision bf16 on the CPU",
            &[
                "distill",
                "--config",
                CONFIG,
                "--out",
                &di,
                "--precision",
                "bf16",
            ],
            &di,
        ),
        device(
            "eval classifier --device cuda",
            &[
                "eval",
                "classifier",
                "--space",
                SPACE,
                "--out",
                &cl,
                "--device",
                cuda,
            ],
            &cl,
        ),
        device(
            "eval run --device cuda",
            &[
                "eval",
                "run",
                "--config",
                CONFIG,
                "--teacher",
                &ft,
                "--student",
                &di,
                "--classifier",
                &cl,
                "--out",
                &ev,
                "--device",
                cuda,
            ],
            &ev,
        ),
        device(
            "sample --device cuda",
            &[
                "sample",
                "--config",
                CONFIG,
                "--prompt",
                "a red square",
                "--out",
                &clip,
                "--device",
                cuda,
            ],
            &sa,
        ),
        device(
            "latency e2e --measure --device cuda",
            &[
                "latency",
                "e2e",
                "--config",
                CONFIG,
                "--table",
                TABLE,
                "--measure",
                "--device",
                cuda,
            ],
            &sa,
        ),
        device(
            "bench train-step --device cuda",
            &["bench", "train-step", "--csv", &csv, "--device", cuda],
            &bench,
        ),
    ];
    check_all(&cases);
}
