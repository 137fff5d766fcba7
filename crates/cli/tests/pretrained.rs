//! Stage 1 starts from a pretrained vidnas image model (as the demo starts from the shipped
//! `configs/<space>-image.safetensors`): `--init-unet` with a file that holds `text_encoder.*`
//! loads the text encoder as well as the UNet.

mod common;

use common::{vidnas_ok, write_micro_space};
use tch::Tensor;

fn tensors(path: &std::path::Path) -> Vec<(String, Tensor)> {
    let mut t = Tensor::read_safetensors(path).unwrap();
    t.sort_by(|a, b| a.0.cmp(&b.0));
    t
}

#[test]
fn an_image_model_file_starts_the_unet_and_the_text_encoder() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let space = write_micro_space(tmp.path());
    let train = |out: &str, seed: &str, steps: &str, init: Option<&str>| {
        let mut args = vec![
            "pretrain-image",
            &space,
            "--out",
            out,
            "--steps",
            steps,
            "--batch-size",
            "1",
            "--validation-clips",
            "2",
            "--seed",
            seed,
            "--threads",
            "1",
        ];
        if let Some(init) = init {
            args.extend(["--init-unet", init]);
        }
        vidnas_ok(&args);
    };
    let (source, started, scratch) = (p("source"), p("started"), p("scratch"));
    train(&source, "0", "3", None);
    let weights = format!("{source}/model.safetensors");
    // Another seed initialises every weight differently; zero steps keep what was loaded.
    train(&started, "1", "0", Some(&weights));
    train(&scratch, "1", "0", None);
    let want = tensors(std::path::Path::new(&weights));
    let got = tensors(&tmp.path().join("started/model.safetensors"));
    let fresh = tensors(&tmp.path().join("scratch/model.safetensors"));
    assert_eq!(want.len(), got.len());
    assert!(want.iter().any(|(n, _)| n.starts_with("text_encoder.")));
    for ((name, w), (_, g)) in want.iter().zip(&got) {
        assert!(w.equal(g), "{name} was not loaded");
    }
    let text_differs = want
        .iter()
        .zip(&fresh)
        .any(|((n, w), (_, f))| n.starts_with("text_encoder.") && !w.equal(f));
    assert!(
        text_differs,
        "the seeds should give different text encoders"
    );
}
