//! Real-model inputs: precomputed prompt embeddings as the text conditioning, pre-encoded latent
//! clips for a latent-space backbone, real footage folders, and stage 1 started from diffusers
//! weights.

mod common;

use common::micro_space;
use std::path::Path;
use tch::{Device, Kind, Tensor};
use vidnas_data::{write_latent_clips, Clip, ClipLabel, Vocab};
use vidnas_diffusion::{default_text_config, DataConfig, DataSource, RunInfo};
use vidnas_diffusion::{Objective, PathSampling, TrainConfig, VideoModel, TEXT_PREFIX};
use vidnas_nn::{save_filtered, Build, PromptTable};
use vidnas_space::Space;
use vidnas_supernet::{pretrain_image, train_temporal, ImageStage, Scorer, TemporalStage};

fn quick(steps: usize) -> TrainConfig {
    TrainConfig {
        steps,
        batch_size: 2,
        checkpoint_every: 10,
        warmup_steps: 1,
        ..TrainConfig::default()
    }
}

/// A prompt table over `prompts` (plus the empty prompt) for the micro space's width.
fn write_table(path: &Path, prompts: &[String]) -> PromptTable {
    tch::manual_seed(7);
    let mut all = vec![String::new()];
    all.extend(prompts.iter().cloned());
    let table = PromptTable {
        embeddings: Tensor::randn([all.len() as i64, 5, 32], (Kind::Float, Device::Cpu)),
        prompts: all,
    };
    table.write(path).unwrap();
    PromptTable::read(path).unwrap()
}

/// Stage-1 inputs: `validation_clips` clips of `source`, optionally a prompt table.
fn stage(source: DataSource, validation_clips: usize, embeddings: Option<&Path>) -> ImageStage {
    ImageStage {
        data: DataConfig {
            train_clips: 8,
            validation_clips,
            source,
            ..DataConfig::default()
        },
        text_embeddings: embeddings.map(Path::to_path_buf),
        init_unet: None,
    }
}

/// The message of a stage-1 run that must fail.
fn stage1_error(space: &Space, stage: ImageStage) -> String {
    let dir = tempfile::tempdir().unwrap();
    pretrain_image(
        space,
        &dir.path().join("run"),
        quick(1),
        stage,
        false,
        false,
        &vidnas_diffusion::Compute::cpu(),
    )
    .unwrap_err()
    .to_string()
}

fn procedural_prompts() -> Vec<String> {
    ClipLabel::all_drawable()
        .iter()
        .map(|l| l.caption())
        .collect()
}

#[test]
fn precomputed_embeddings_condition_every_stage() {
    let space = micro_space();
    let dir = tempfile::tempdir().unwrap();
    let emb = dir.path().join("prompts.safetensors");
    let table = write_table(&emb, &procedural_prompts());
    let image = dir.path().join("image");
    let stage = stage(DataSource::Procedural, 2, Some(&emb));
    pretrain_image(
        &space,
        &image,
        quick(2),
        stage,
        false,
        false,
        &vidnas_diffusion::Compute::cpu(),
    )
    .unwrap();
    let info = RunInfo::load(&image).unwrap();
    let pre = info
        .text
        .precomputed
        .as_ref()
        .expect("run records the table");
    assert_eq!(pre.prompts, table.prompts);
    assert_eq!(info.text.max_tokens, 5);

    let supernet = dir.path().join("supernet");
    let objective = Objective::Supernet(PathSampling::Fair);
    let stage = TemporalStage::default();
    train_temporal(
        &space,
        &image,
        &supernet,
        objective,
        quick(2),
        stage,
        false,
        false,
        &vidnas_diffusion::Compute::cpu(),
    )
    .unwrap();
    let scorer = Scorer::open(&space, &supernet, tch::Device::Cpu).unwrap();

    // The rows reach the UNet unchanged: training never touches a precomputed embedding.
    let prompt = &table.prompts[3];
    let ctx = scorer
        .model
        .prompt_context(&[prompt.as_str()], &info.vocab)
        .unwrap();
    assert!(ctx.squeeze_dim(0).equal(&table.embeddings.get(3)));
    let arch = space.parse_arch(&["conv1d"; 7].join("-")).unwrap();
    assert!(scorer.score(&arch).unwrap().is_finite());

    let err = scorer
        .model
        .prompt_context(&["a purple dog"], &info.vocab)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("a purple dog") && err.contains("prompts.safetensors"),
        "{err}"
    );
}

#[test]
fn empty_prompt_row_is_the_null_context() {
    let space = micro_space();
    let dir = tempfile::tempdir().unwrap();
    let emb = dir.path().join("p.safetensors");
    let table = write_table(&emb, &["a red square".to_string()]);
    let config = vidnas_nn::TextEncoderConfig::precomputed(&table, emb, "x".into());
    let mut model = VideoModel::new(&space, Build::Image, config, Device::Cpu).unwrap();
    model.load_prompt_table(&table).unwrap();
    assert!(model
        .text
        .null_context(1)
        .get(0)
        .equal(&table.embeddings.get(0)));
    let trainable = model.trainable(|_| true);
    assert!(trainable
        .iter()
        .all(|(n, _)| !n.ends_with("prompt_embeddings")));
}

#[test]
fn a_caption_missing_from_the_table_fails_before_training() {
    let space = micro_space();
    let dir = tempfile::tempdir().unwrap();
    let emb = dir.path().join("few.safetensors");
    write_table(&emb, &["a red square moving left slow".to_string()]);
    let err = stage1_error(&space, stage(DataSource::Procedural, 1, Some(&emb)));
    assert!(
        err.contains("few.safetensors") && err.contains("no precomputed embedding"),
        "{err}"
    );
}

fn latent_space() -> Space {
    let mut file = micro_space().file.clone();
    file.name = "micro-latent".into();
    file.video.channels = 4;
    file.video.vae_scale_factor = 8;
    file.backbone.in_channels = 4;
    file.backbone.out_channels = 4;
    Space::from_file("micro-latent.json", file).unwrap()
}

#[test]
fn latent_clips_train_a_latent_backbone_from_diffusers_weights() {
    let space = latent_space();
    let dir = tempfile::tempdir().unwrap();
    let captions: Vec<String> = (0..6).map(|i| format!("clip number {i}")).collect();
    let clips: Vec<Clip> = captions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let values = (0..4 * 4 * 16 * 16).map(|v| ((v * (i + 1)) % 17) as f32 / 8.0 - 1.0);
            Clip::new(4, 4, 16, 16, values.collect(), c.clone(), None).unwrap()
        })
        .collect();
    let latents = dir.path().join("latents.safetensors");
    write_latent_clips(&latents, &clips).unwrap();
    let emb = dir.path().join("prompts.safetensors");
    write_table(&emb, &captions);

    // "Diffusers" weights: a spatial UNet saved by key, as import-backbone users have them.
    tch::manual_seed(3);
    let table = PromptTable::read(&emb).unwrap();
    let text = vidnas_nn::TextEncoderConfig::precomputed(&table, emb.clone(), "x".into());
    let donor = VideoModel::new(&space, Build::Image, text, Device::Cpu).unwrap();
    let unet = dir.path().join("diffusion_pytorch_model.safetensors");
    save_filtered(&donor.vs, &unet, |n| !n.starts_with(TEXT_PREFIX)).unwrap();

    let image = dir.path().join("image");
    let source = DataSource::Latents {
        path: latents.clone(),
    };
    let stage = ImageStage {
        init_unet: Some(unet.clone()),
        ..stage(source, 2, Some(&emb))
    };
    pretrain_image(
        &space,
        &image,
        quick(0),
        stage,
        false,
        false,
        &vidnas_diffusion::Compute::cpu(),
    )
    .unwrap();
    let saved = Tensor::read_safetensors(image.join("model.safetensors")).unwrap();
    let init: std::collections::HashMap<_, _> = Tensor::read_safetensors(&unet)
        .unwrap()
        .into_iter()
        .collect();
    for (name, t) in &saved {
        if let Some(w) = init.get(name) {
            assert!(t.equal(w), "{name} differs from the diffusers weights");
        }
    }
    assert_eq!(
        saved.iter().filter(|(n, _)| init.contains_key(n)).count(),
        init.len()
    );

    let supernet = dir.path().join("supernet");
    let objective = Objective::Supernet(PathSampling::Uniform);
    train_temporal(
        &space,
        &image,
        &supernet,
        objective,
        quick(2),
        TemporalStage::default(),
        false,
        false,
        &vidnas_diffusion::Compute::cpu(),
    )
    .unwrap();
    let scorer = Scorer::open(&space, &supernet, tch::Device::Cpu).unwrap();
    let arch = space.parse_arch(&["attn1d"; 7].join("-")).unwrap();
    assert!(scorer.score(&arch).unwrap().is_finite());
}

#[test]
fn latents_of_the_wrong_shape_are_refused_with_the_shape_named() {
    let space = latent_space();
    let dir = tempfile::tempdir().unwrap();
    let clips: Vec<Clip> = (0..3)
        .map(|i| Clip::new(4, 4, 8, 8, vec![0.0; 4 * 4 * 8 * 8], format!("c {i}"), None).unwrap())
        .collect();
    let latents = dir.path().join("small.safetensors");
    write_latent_clips(&latents, &clips).unwrap();
    let err = stage1_error(
        &space,
        stage(DataSource::Latents { path: latents }, 1, None),
    );
    assert!(
        err.contains("small.safetensors") && err.contains("[4, 4, 16, 16]"),
        "{err}"
    );
}

#[test]
fn a_frame_folder_trains_with_a_vocabulary_from_its_captions() {
    let space = micro_space();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("footage");
    for (i, caption) in ["a dog running", "waves at night", "a bird flying away"]
        .iter()
        .enumerate()
    {
        let clip = root.join(format!("clip{i}"));
        std::fs::create_dir_all(&clip).unwrap();
        std::fs::write(clip.join("caption.txt"), caption).unwrap();
        for f in 0..4 {
            let img = image::RgbImage::from_fn(20, 20, |x, y| {
                image::Rgb([(x * 12) as u8, (y * 12) as u8, (f * 60 + i * 20) as u8])
            });
            img.save(clip.join(format!("{f:03}.png"))).unwrap();
        }
    }
    let stage = stage(DataSource::Folder { path: root }, 1, None);
    let info = pretrain_image(
        &space,
        &dir.path().join("run"),
        quick(2),
        stage,
        false,
        false,
        &vidnas_diffusion::Compute::cpu(),
    )
    .unwrap();
    for word in ["dog", "waves", "bird"] {
        assert!(
            info.vocab.id(word).is_some(),
            "{word} missing from the vocabulary"
        );
    }
    assert_eq!(info.text, default_text_config(&space, &info.vocab, 4));
    assert_ne!(info.vocab, Vocab::procedural());
}
