//! A micro space (4 frames of 16×16, two stages) so libtorch tests run in seconds.

use vidnas_space::Space;

pub fn micro_space() -> Space {
    let mut v: serde_json::Value =
        serde_json::from_str(include_str!("../../../../search-spaces/tiny.json")).unwrap();
    v["name"] = "micro".into();
    v["video"] = serde_json::json!({"frames": 4, "height": 16, "width": 16, "channels": 3});
    let b = &mut v["backbone"];
    b["sample_size"] = 16.into();
    b["block_out_channels"] = serde_json::json!([16, 32]);
    b["down_block_types"] = serde_json::json!(["DownBlock2D", "CrossAttnDownBlock2D"]);
    b["up_block_types"] = serde_json::json!(["CrossAttnUpBlock2D", "UpBlock2D"]);
    b["cross_attention_dim"] = 32.into();
    b["attention_head_dim"] = 2.into();
    b["norm_num_groups"] = 8.into();
    v["temporal"]["ops"]["attn1d"]["num_heads"] = 2.into();
    v["temporal"]["ops"]["attn3d"]["num_heads"] = 2.into();
    Space::from_json("micro.json", &v.to_string()).unwrap()
}
