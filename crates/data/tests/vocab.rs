//! Caption vocabulary: round trips, padding, and errors that name every unknown word.

use vidnas_data::{ClipLabel, DataError, Vocab, PAD_ID};

#[test]
fn every_procedural_caption_round_trips() {
    let v = Vocab::procedural();
    for label in ClipLabel::all_drawable() {
        let caption = label.caption();
        let ids = v.tokenize(&caption, 8).unwrap();
        assert_eq!(ids.len(), 8);
        assert!(ids.iter().all(|&id| id >= 0 && (id as usize) < v.len()));
        assert_eq!(v.decode(&ids), caption);
    }
}

#[test]
fn procedural_vocab_is_small_fixed_and_starts_with_specials() {
    let v = Vocab::procedural();
    assert_eq!(v, Vocab::procedural());
    assert_eq!(&v.tokens()[..3], ["<pad>", "<unk>", "a"]);
    // a + 6 colours + 4 shapes + moving left slow fast right up down rotating clockwise
    // counterclockwise growing shrinking blinking turning.
    assert_eq!(v.word_count(), 1 + 6 + 4 + 14);
    assert_eq!(v.len(), v.word_count() + 2);
}

#[test]
fn tokenize_lowercases_and_pads_with_zero() {
    let v = Vocab::procedural();
    let ids = v.tokenize("A  RED square\tgrowing", 6).unwrap();
    assert_eq!(&ids[4..], [PAD_ID, PAD_ID]);
    assert_eq!(ids[0], v.id("a").unwrap());
    assert_eq!(v.decode(&ids), "a red square growing");
    assert_eq!(v.tokenize("", 3).unwrap(), vec![0, 0, 0]);
}

#[test]
fn unknown_words_are_all_listed() {
    let v = Vocab::procedural();
    let err = v
        .tokenize("a purple hexagon moving sideways purple", 8)
        .unwrap_err();
    match &err {
        DataError::UnknownWords {
            words, vocab_size, ..
        } => {
            assert_eq!(words, &["purple", "hexagon", "sideways"]);
            assert_eq!(*vocab_size, v.word_count());
        }
        other => panic!("unexpected error {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "unknown words in prompt: \"purple\", \"hexagon\", \"sideways\"; the model's vocabulary has {} words: a, red,",
            v.word_count()
        )),
        "{msg}"
    );
    assert!(
        msg.contains("counterclockwise"),
        "every known word is listed: {msg}"
    );
}

#[test]
fn too_long_prompt_is_an_error() {
    let v = Vocab::procedural();
    let err = v
        .tokenize("a red square moving left fast", 4)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("6 words") && err.contains("at most 4"),
        "{err}"
    );
}

#[test]
fn from_captions_keeps_first_appearance_order() {
    let v = Vocab::from_captions(["A dog runs.", "a cat runs", "dog sleeps"]);
    assert_eq!(&v.tokens()[2..], ["a", "dog", "runs", "cat", "sleeps"]);
    assert_eq!(v.tokenize("A cat sleeps", 4).unwrap(), vec![2, 5, 6, 0]);
}

#[test]
fn serde_round_trip_and_validation() {
    let v = Vocab::procedural();
    let json = serde_json::to_string(&v).unwrap();
    assert!(
        json.starts_with("{\"tokens\":[\"<pad>\",\"<unk>\",\"a\""),
        "{json}"
    );
    let back: Vocab = serde_json::from_str(&json).unwrap();
    assert_eq!(back, v);
    assert_eq!(
        back.tokenize("a blue cross blinking", 5).unwrap(),
        v.tokenize("a blue cross blinking", 5).unwrap()
    );

    let broken = r#"{"tokens":["<pad>","<unk>","a","a"]}"#;
    let err = serde_json::from_str::<Vocab>(broken)
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"a\" appears twice"), "{err}");
    let no_specials = r#"{"tokens":["a","b"]}"#;
    assert!(serde_json::from_str::<Vocab>(no_specials).is_err());
}
