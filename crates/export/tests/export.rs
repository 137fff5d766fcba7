use tch::{Device, Kind, Tensor};
use vidnas_diffusion::{DataConfig, Objective, PathSampling, TrainConfig};
use vidnas_export::{export, load_exported, ExportRequest};
use vidnas_space::Space;
use vidnas_supernet::{pretrain_image, train_temporal, ImageStage, Scorer, TemporalStage};

fn micro() -> Space {
    vidnas_space::fixtures::micro()
}

#[test]
fn exported_subnet_equals_the_supernet_path() {
    tch::manual_seed(0);
    let space = micro();
    let dir = tempfile::tempdir().unwrap();
    let cfg = TrainConfig {
        steps: 2,
        batch_size: 2,
        checkpoint_every: 10,
        ..TrainConfig::default()
    };
    let data = ImageStage {
        data: DataConfig {
            seed: 0,
            train_clips: 8,
            validation_clips: 2,
            ..DataConfig::default()
        },
        ..ImageStage::default()
    };
    let image = dir.path().join("image");
    let supernet = dir.path().join("supernet");
    pretrain_image(
        &space,
        &image,
        cfg.clone(),
        data,
        false,
        false,
        &vidnas_diffusion::Compute::cpu(),
    )
    .unwrap();
    train_temporal(
        &space,
        &image,
        &supernet,
        Objective::Supernet(PathSampling::Uniform),
        cfg,
        TemporalStage::default(),
        false,
        false,
        &vidnas_diffusion::Compute::cpu(),
    )
    .unwrap();

    let arch = space
        .parse_arch("conv1d-attn1d-attn3d-conv3d-none-attn1d-conv1d-none-conv3d-attn1d")
        .unwrap();
    let out = dir.path().join("configs");
    let req = ExportRequest {
        space: &space,
        arch: &arch,
        supernet_run: &supernet,
        out_dir: &out,
        name: "chosen",
        score: Some(0.5),
        predicted: None,
        table_path: None,
        search_run: None,
        search_seed: Some(3),
        selection: "knee".into(),
    };
    let config_path = export(&req).unwrap();
    assert!(out.join("chosen.safetensors").exists());
    let (config, space2, arch2, model) = load_exported(&config_path).unwrap();
    assert_eq!(arch2, arch);
    assert_eq!(config.provenance.space_hash, space.hash());
    assert_eq!(space2.hash(), space.hash());

    // Only the chosen ops' temporal weights were exported.
    let names: Vec<String> = model.vs.variables().into_keys().collect();
    assert!(names
        .iter()
        .any(|n| n.starts_with("down_blocks.0.temporal.0.conv1d.")));
    assert!(!names
        .iter()
        .any(|n| n.starts_with("down_blocks.0.temporal.0.attn1d.")));

    let scorer = Scorer::open(&space, &supernet, tch::Device::Cpu).unwrap();
    let xs = Tensor::randn([1, 3, 2, 8, 8], (Kind::Float, Device::Cpu));
    let t = Tensor::from_slice(&[300i64]);
    let ctx = Tensor::randn([1, 8, 16], (Kind::Float, Device::Cpu));
    let a = tch::no_grad(|| scorer.model.denoise(&xs, &t, &ctx, &arch));
    let b = tch::no_grad(|| model.denoise(&xs, &t, &ctx, &arch));
    assert_eq!(f64::try_from((a - b).abs().max()).unwrap(), 0.0);
}

#[test]
fn export_from_another_space_is_refused() {
    tch::manual_seed(0);
    let space = micro();
    let dir = tempfile::tempdir().unwrap();
    let cfg = TrainConfig {
        steps: 1,
        batch_size: 1,
        ..TrainConfig::default()
    };
    let image = dir.path().join("image");
    pretrain_image(
        &space,
        &image,
        cfg,
        ImageStage {
            data: DataConfig {
                seed: 0,
                train_clips: 2,
                validation_clips: 1,
                ..DataConfig::default()
            },
            ..ImageStage::default()
        },
        false,
        false,
        &vidnas_diffusion::Compute::cpu(),
    )
    .unwrap();
    let mut other = space.file.clone();
    other.video.frames = 4;
    let other = Space::from_file("other.json", other).unwrap();
    let arch = other
        .parse_arch("conv1d-none-none-none-none-none-none-none-none-none")
        .unwrap();
    let out = dir.path().join("configs");
    let req = ExportRequest {
        space: &other,
        arch: &arch,
        supernet_run: &image,
        out_dir: &out,
        name: "x",
        score: None,
        predicted: None,
        table_path: None,
        search_run: None,
        search_seed: None,
        selection: "id".into(),
    };
    let err = export(&req).unwrap_err().to_string();
    assert!(
        err.contains("trained on space `micro`") && err.contains("hash"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written");
}
