//! Importing diffusers configs: fixtures under tests/fixtures/ (small-unet: saved by diffusers
//! 0.42.1 `save_config`; bk-sdm-tiny: the published BK-SDM-Tiny UNet config; minimal: only
//! `sample_size`), and refusals made by changing one key of small-unet.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use vidnas_import::{
    default_temporal, import_diffusers_config, write_space, ImportError, ImportOptions,
};
use vidnas_space::{OpKind, Space};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn small_config() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(fixture("small-unet").join("config.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Imports `config` written to a temporary `config.json`.
fn import_json(config: &Value, opts: &ImportOptions) -> Result<Space, ImportError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let file = import_diffusers_config(dir.path(), opts)?;
    Ok(Space::from_file("imported.json", file).unwrap())
}

/// small-unet with `key` set to `value`.
fn small_with(key: &str, value: Value) -> Value {
    let mut c = small_config();
    c.insert(key.to_string(), value);
    Value::Object(c)
}

fn refused_key(config: &Value) -> (String, String) {
    let err = import_json(config, &ImportOptions::default())
        .map(|s| s.file)
        .unwrap_err();
    let key = err
        .key()
        .unwrap_or_else(|| panic!("not an unsupported-key error: {err}"))
        .to_string();
    (key, err.to_string())
}

#[test]
fn good_config_imports_into_a_valid_space() {
    let file = import_diffusers_config(&fixture("small-unet"), &ImportOptions::default()).unwrap();
    let space = Space::from_file("small-unet.json", file.clone()).unwrap();
    let b = &file.backbone;
    assert_eq!(file.name, "small-unet");
    assert_eq!(b.block_out_channels, [32, 64, 64]);
    assert_eq!(b.layers_per_block, 1);
    assert_eq!(
        b.down_block_types,
        [
            "DownBlock2D",
            "CrossAttnDownBlock2D",
            "CrossAttnDownBlock2D"
        ]
    );
    assert_eq!(
        b.up_block_types,
        ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"]
    );
    assert_eq!(b.mid_block_type, "UNetMidBlock2DCrossAttn");
    assert_eq!(
        (
            b.cross_attention_dim,
            b.attention_head_dim,
            b.norm_num_groups
        ),
        (64, 4, 8)
    );
    assert_eq!(
        (b.norm_eps, b.flip_sin_to_cos, b.freq_shift),
        (1e-5, true, 0)
    );
    assert_eq!(
        (b.transformer_layers_per_block, b.use_linear_projection),
        (1, false)
    );
    assert_eq!((b.sample_size, b.in_channels, b.out_channels), (32, 4, 4));
    let v = &file.video;
    assert_eq!((v.frames, v.height, v.width, v.channels), (8, 32, 32, 4));
    assert_eq!(v.vae_scale_factor, 8, "4 latent channels: SD's 8x VAE");
    // Template: tiny.json's ops with gcd heads and attn3d at the lowest stage (32 >> 2 = 8).
    let ops = &file.temporal.ops;
    assert_eq!(ops.attn1d.as_ref().unwrap().num_heads, 4);
    let attn3d = ops.attn3d.as_ref().unwrap();
    assert_eq!((attn3d.num_heads, attn3d.max_resolution), (4, Some(8)));
    assert_eq!(space.num_slots(), 3 + 1 + 3 * 2);
    for slot in &space.slots {
        assert_eq!(
            slot.allows(OpKind::Attn3d),
            slot.height <= 8,
            "{}",
            slot.name
        );
    }
    assert!(file.notes.iter().any(|n| n.contains("diffusers 0.42.1")));

    // Where the model lies does not change the space (nor its hash).
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("small-unet");
    std::fs::create_dir(&copy).unwrap();
    std::fs::copy(
        fixture("small-unet").join("config.json"),
        copy.join("config.json"),
    )
    .unwrap();
    let moved = import_diffusers_config(&copy, &ImportOptions::default()).unwrap();
    assert_eq!(moved, file);
}

#[test]
fn written_space_loads_back_identical_and_no_temp_file_remains() {
    let file = import_diffusers_config(&fixture("small-unet"), &ImportOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("small.json");
    let written = write_space(&file, &out).unwrap();
    let loaded = Space::load(&out).unwrap();
    assert_eq!(loaded.file, file);
    assert_eq!(loaded.hash(), written.hash());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["small.json"]);
}

#[test]
fn an_invalid_space_is_not_written() {
    let mut file =
        import_diffusers_config(&fixture("small-unet"), &ImportOptions::default()).unwrap();
    file.video.frames = 0;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bad.json");
    let err = write_space(&file, &out).unwrap_err();
    assert!(matches!(err, ImportError::Space(_)), "{err}");
    assert!(err.to_string().contains("video.frames"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn unsupported_block_type_is_refused_with_the_key_named() {
    let mut c = small_config();
    c["down_block_types"][1] = json!("SimpleCrossAttnDownBlock2D");
    let (key, message) = refused_key(&Value::Object(c));
    assert_eq!(key, "down_block_types[1]");
    assert!(
        message.contains("\"SimpleCrossAttnDownBlock2D\""),
        "{message}"
    );
    assert!(message.contains("config.json"), "names the file: {message}");
    assert!(
        message.contains("DownBlock2D or CrossAttnDownBlock2D"),
        "{message}"
    );

    let mut c = small_config();
    c["up_block_types"][2] = json!("AttnUpBlock2D");
    assert_eq!(refused_key(&Value::Object(c)).0, "up_block_types[2]");
}

#[test]
fn unsupported_settings_are_refused_with_the_key_named() {
    let cases: Vec<(&str, Value)> = vec![
        ("attention_head_dim", json!([2, 4, 4])),
        ("transformer_layers_per_block", json!([1, 2, 2])),
        ("transformer_layers_per_block", json!([[1], [1], [1]])),
        ("layers_per_block", json!([1, 2, 2])),
        ("cross_attention_dim", json!([64, 32, 64])),
        ("class_embed_type", json!("timestep")),
        ("addition_embed_type", json!("text_time")),
        ("time_embedding_type", json!("fourier")),
        ("act_fn", json!("gelu")),
        ("resnet_time_scale_shift", json!("scale_shift")),
        ("upcast_attention", json!(true)),
        ("dual_cross_attention", json!(true)),
        ("only_cross_attention", json!(true)),
        ("only_cross_attention", json!([false, true, false])),
        ("num_class_embeds", json!(10)),
        ("encoder_hid_dim", json!(768)),
        ("mid_block_type", Value::Null),
        ("mid_block_type", json!("UNetMidBlock2DSimpleCrossAttn")),
        ("center_input_sample", json!(true)),
        ("conv_in_kernel", json!(5)),
        ("conv_out_kernel", json!(1)),
        ("time_cond_proj_dim", json!(256)),
        ("num_attention_heads", json!(2)),
        ("downsample_padding", json!(0)),
        ("dropout", json!(0.1)),
        ("sample_size", Value::Null),
        ("sample_size", json!([32, 64])),
        ("norm_num_groups", Value::Null),
        ("in_channels", json!(-1)),
        ("flip_sin_to_cos", json!("yes")),
        ("an_unknown_key", json!(1)),
        ("_class_name", json!("UNet2DModel")),
    ];
    for (key, value) in cases {
        let (named, message) = refused_key(&small_with(key, value.clone()));
        eprintln!("{message}");
        assert_eq!(named, key, "{key} = {value}: {message}");
        assert!(message.contains(&value.to_string()), "{message}");
    }
}

#[test]
fn lists_of_equal_values_defaults_and_private_keys_are_accepted() {
    let mut c = small_config();
    c.insert("attention_head_dim".into(), json!([4, 4, 4]));
    c.insert("num_attention_heads".into(), json!(4));
    c.insert("transformer_layers_per_block".into(), json!([2, 2, 2]));
    c.insert("layers_per_block".into(), json!([1, 1, 1]));
    c.insert("cross_attention_dim".into(), json!([64, 64, 64]));
    c.insert("only_cross_attention".into(), json!([false, false, false]));
    c.insert("sample_size".into(), json!([32, 32]));
    c.insert("mid_block_scale_factor".into(), json!(1.0));
    c.insert("resnet_out_scale_factor".into(), json!(1));
    c.insert("addition_embed_type_num_heads".into(), json!(32));
    c.insert("_name_or_path".into(), json!("somewhere/else"));
    c.insert("_use_default_values".into(), json!(["dropout"]));
    c.insert(
        "down_block_types".into(),
        json!([
            "UNetResDownBlock2D",
            "CrossAttnDownBlock2D",
            "CrossAttnDownBlock2D"
        ]),
    );
    let space = import_json(&Value::Object(c), &ImportOptions::default()).unwrap();
    let b = &space.file.backbone;
    assert_eq!(
        (b.attention_head_dim, b.transformer_layers_per_block),
        (4, 2)
    );
    assert_eq!((b.layers_per_block, b.cross_attention_dim), (1, 64));
    assert_eq!(b.sample_size, 32);
    assert_eq!(b.down_block_types[0], "DownBlock2D");
}

/// Missing keys take diffusers' defaults: the SD-1.x-shaped UNet (with diffusers' default
/// cross_attention_dim 1280).
#[test]
fn missing_keys_take_diffusers_defaults() {
    let file = import_diffusers_config(&fixture("minimal"), &ImportOptions::default()).unwrap();
    let b = &file.backbone;
    assert_eq!(b.block_out_channels, [320, 640, 1280, 1280]);
    assert_eq!(b.layers_per_block, 2);
    assert_eq!(b.down_block_types[3], "DownBlock2D");
    assert_eq!(b.up_block_types[0], "UpBlock2D");
    assert_eq!(b.mid_block_type, "UNetMidBlock2DCrossAttn");
    assert_eq!((b.cross_attention_dim, b.attention_head_dim), (1280, 8));
    assert_eq!((b.norm_num_groups, b.in_channels), (32, 4));
    let ops = &file.temporal.ops;
    assert_eq!(ops.attn1d.as_ref().unwrap().num_heads, 8);
    assert_eq!(ops.attn3d.as_ref().unwrap().max_resolution, Some(8));
}

#[test]
fn options_set_name_frames_vae_factor_and_temporal_ops() {
    let template = default_temporal(&small_config_backbone());
    let mut temporal = template.clone();
    temporal.ops.attn3d = None;
    let opts = ImportOptions {
        name: Some("mine".into()),
        frames: 4,
        vae_scale_factor: Some(1),
        temporal: Some(temporal.clone()),
    };
    let file = import_diffusers_config(&fixture("small-unet"), &opts).unwrap();
    assert_eq!(file.name, "mine");
    assert_eq!((file.video.frames, file.video.vae_scale_factor), (4, 1));
    assert_eq!(file.temporal, temporal);

    // Pixel-space models default to vae_scale_factor 1.
    let space = import_json(
        &small_with("in_channels", json!(3)),
        &ImportOptions::default(),
    );
    assert_eq!(space.unwrap().file.video.vae_scale_factor, 1);

    // Given temporal ops are used as given, and validated.
    let mut bad = template;
    bad.ops.attn1d.as_mut().unwrap().num_heads = 5;
    let opts = ImportOptions {
        temporal: Some(bad),
        ..Default::default()
    };
    let err = import_diffusers_config(&fixture("small-unet"), &opts).unwrap_err();
    assert!(
        err.to_string().contains("temporal.ops.attn1d.num_heads"),
        "{err}"
    );
}

fn small_config_backbone() -> vidnas_space::Backbone {
    import_diffusers_config(&fixture("small-unet"), &ImportOptions::default())
        .unwrap()
        .backbone
}

#[test]
fn config_is_found_in_a_pipeline_folder_or_given_as_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = dir.path().join("my-pipeline");
    std::fs::create_dir_all(pipeline.join("unet")).unwrap();
    std::fs::copy(
        fixture("small-unet").join("config.json"),
        pipeline.join("unet").join("config.json"),
    )
    .unwrap();
    let from_pipeline = import_diffusers_config(&pipeline, &ImportOptions::default()).unwrap();
    assert_eq!(from_pipeline.name, "my-pipeline");
    let from_file = import_diffusers_config(
        &fixture("small-unet").join("config.json"),
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(from_file.backbone, from_pipeline.backbone);

    let err = import_diffusers_config(dir.path(), &ImportOptions::default()).unwrap_err();
    assert!(matches!(err, ImportError::NotFound { .. }), "{err}");
    std::fs::write(pipeline.join("unet").join("config.json"), "[1, 2]").unwrap();
    let err = import_diffusers_config(&pipeline, &ImportOptions::default()).unwrap_err();
    assert!(matches!(err, ImportError::Json { .. }), "{err}");
}

/// The published BK-SDM-Tiny config has no mid block, which the space format cannot express:
/// the import refuses it, and search-spaces/bk-sdm-tiny.json is its import with the smallest
/// mid block in its place.
#[test]
fn bk_sdm_tiny_space_is_the_published_config_with_a_resnet_mid_block() {
    let (key, message) = {
        let err = import_diffusers_config(&fixture("bk-sdm-tiny"), &ImportOptions::default())
            .unwrap_err();
        (err.key().map(str::to_string), err.to_string())
    };
    assert_eq!(key.as_deref(), Some("mid_block_type"), "{message}");
    assert!(message.contains("null"), "{message}");

    let text = std::fs::read_to_string(fixture("bk-sdm-tiny").join("config.json")).unwrap();
    let mut config: Value = serde_json::from_str(&text).unwrap();
    config["mid_block_type"] = json!("UNetMidBlock2D");
    let opts = ImportOptions {
        frames: 16,
        ..Default::default()
    };
    let imported = import_json(&config, &opts).unwrap().file;
    let space = Space::load(repo_file("search-spaces/bk-sdm-tiny.json")).unwrap();
    assert_eq!(space.file.backbone, imported.backbone);
    assert_eq!(space.file.video, imported.video);
    assert_eq!(space.file.temporal, imported.temporal);
    assert_eq!(space.name(), "bk-sdm-tiny");
    assert_eq!(space.num_slots(), 3 + 1 + 3 * 2);
    let attn3d: Vec<&str> = space
        .slots
        .iter()
        .filter(|s| s.allows(OpKind::Attn3d))
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        attn3d,
        [
            "down.2.block.0",
            "mid.block.0",
            "up.0.block.0",
            "up.0.block.1"
        ]
    );
}

/// The default template comes from search-spaces/tiny.json, so that file must stay a template
/// this crate can read; importing the tiny space's own backbone gives back its temporal ops.
#[test]
fn default_template_is_the_tiny_space() {
    // The tiny space's ops, except its CPU-speed limit on conv3d.
    let tiny = Space::load(repo_file("search-spaces/tiny.json")).unwrap();
    let mut expected = tiny.file.temporal.clone();
    expected.ops.conv3d.as_mut().unwrap().max_resolution = None;
    assert_eq!(default_temporal(&tiny.file.backbone), expected);
}
