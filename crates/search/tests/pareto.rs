//! Non-dominated sorting, crowding distance and hypervolume against hand-worked cases.

use proptest::prelude::*;
use vidnas_search::{
    crowding_distance, hypervolume, non_dominated, non_dominated_sort, reference_from,
};

fn pts(v: &[&[f64]]) -> Vec<Vec<f64>> {
    v.iter().map(|p| p.to_vec()).collect()
}

#[test]
fn non_dominated_sort_hand_worked() {
    // A(1,5) B(2,3) C(4,1) are mutually non-dominated; B dominates D(3,4) and F(4,4);
    // D dominates F; everything dominates E(5,5).
    let p = pts(&[
        &[1.0, 5.0],
        &[2.0, 3.0],
        &[4.0, 1.0],
        &[3.0, 4.0],
        &[5.0, 5.0],
        &[4.0, 4.0],
    ]);
    assert_eq!(
        non_dominated_sort(&p),
        vec![vec![0, 1, 2], vec![3], vec![5], vec![4]]
    );
    assert_eq!(non_dominated(&p), vec![0, 1, 2]);
}

#[test]
fn equal_points_share_a_front() {
    let p = pts(&[&[1.0, 1.0], &[1.0, 1.0], &[2.0, 2.0]]);
    assert_eq!(non_dominated_sort(&p), vec![vec![0, 1], vec![2]]);
    assert_eq!(non_dominated(&p), vec![0, 1]);
}

#[test]
fn crowding_distance_hand_worked() {
    // Front A(1,5) B(2,3) C(4,1): B gets (4-1)/3 + (5-1)/4 = 2; the ends are infinite.
    let p = pts(&[&[1.0, 5.0], &[2.0, 3.0], &[4.0, 1.0]]);
    assert_eq!(
        crowding_distance(&p, &[0, 1, 2]),
        vec![f64::INFINITY, 2.0, f64::INFINITY]
    );
    // (0,4) (1,2) (3,1) (4,0): x-range 4, y-range 4.
    // (1,2): (3-0)/4 + (4-1)/4 = 1.5; (3,1): (4-1)/4 + (2-0)/4 = 1.25.
    let q = pts(&[&[0.0, 4.0], &[1.0, 2.0], &[3.0, 1.0], &[4.0, 0.0]]);
    let d = crowding_distance(&q, &[0, 1, 2, 3]);
    assert_eq!(d[1], 1.5);
    assert_eq!(d[2], 1.25);
    assert!(d[0].is_infinite() && d[3].is_infinite());
    // No spread in an objective adds nothing; two points are both boundaries.
    let flat = pts(&[&[1.0, 1.0], &[1.0, 2.0], &[1.0, 3.0]]);
    assert_eq!(crowding_distance(&flat, &[0, 1, 2])[1], 1.0);
}

#[test]
fn hypervolume_2d_hand_worked() {
    // Staircase (1,3) (2,2) (3,1) under (4,4): strips 3·1 + 2·1 + 1·1.
    let p = pts(&[&[1.0, 3.0], &[2.0, 2.0], &[3.0, 1.0]]);
    assert_eq!(hypervolume(&p, &[4.0, 4.0]), 6.0);
    // A dominated point, a duplicate and a point outside the box change nothing.
    let mut q = p.clone();
    q.extend(pts(&[&[3.0, 3.0], &[2.0, 2.0], &[0.5, 4.0], &[5.0, 0.0]]));
    assert_eq!(hypervolume(&q, &[4.0, 4.0]), 6.0);
    assert_eq!(hypervolume(&[], &[4.0, 4.0]), 0.0);
}

#[test]
fn hypervolume_3d_hand_worked() {
    assert_eq!(
        hypervolume(&pts(&[&[1.0, 1.0, 1.0]]), &[2.0, 2.0, 2.0]),
        1.0
    );
    // Boxes [0,2]²×[1,2] (4) and [1,2]²×[0,2] (2) overlap in [1,2]³ (1): 5.
    let p = pts(&[&[0.0, 0.0, 1.0], &[1.0, 1.0, 0.0]]);
    assert_eq!(hypervolume(&p, &[2.0, 2.0, 2.0]), 5.0);
    // Three axis-aligned slabs around (0,0,0)-(3,3,3): each 1×3×3 corner box plus overlaps.
    // (2,0,0): 1·3·3 = 9; (0,2,0) adds 2·1·3 = 6; (0,0,2) adds 2·2·1 = 4. Total 19.
    let s = pts(&[&[2.0, 0.0, 0.0], &[0.0, 2.0, 0.0], &[0.0, 0.0, 2.0]]);
    assert_eq!(hypervolume(&s, &[3.0, 3.0, 3.0]), 19.0);
    // Negative objectives (−capacity) work the same way.
    let n = pts(&[&[1.0, 1.0, -10.0]]);
    assert_eq!(hypervolume(&n, &[2.0, 2.0, -5.0]), 5.0);
}

#[test]
fn hypervolume_4d_of_one_box() {
    let p = pts(&[&[1.0, 2.0, 3.0, 4.0]]);
    assert_eq!(
        hypervolume(&p, &[2.0, 4.0, 6.0, 8.0]),
        1.0 * 2.0 * 3.0 * 4.0
    );
}

#[test]
fn reference_point_counts_the_whole_first_population() {
    let first = pts(&[&[1.0, 10.0, -300.0], &[2.0, 20.0, -100.0]]);
    let r = reference_from(&first);
    assert!(first.iter().all(|p| p.iter().zip(&r).all(|(x, y)| x < y)));
    assert!(hypervolume(&first, &r) > 0.0);
}

proptest! {
    #[test]
    fn hypervolume_never_drops_when_a_point_is_added(
        raw in proptest::collection::vec((0u8..20, 0u8..20, 0u8..20), 1..25),
        extra in (0u8..20, 0u8..20, 0u8..20),
    ) {
        let p: Vec<Vec<f64>> = raw.iter().map(|&(a, b, c)| vec![a as f64, b as f64, c as f64]).collect();
        let r = [20.0, 20.0, 20.0];
        let before = hypervolume(&p, &r);
        let mut q = p.clone();
        q.push(vec![extra.0 as f64, extra.1 as f64, extra.2 as f64]);
        prop_assert!(hypervolume(&q, &r) >= before - 1e-9);
        // Only the non-dominated points matter.
        let front: Vec<Vec<f64>> = non_dominated(&p).into_iter().map(|i| p[i].clone()).collect();
        prop_assert!((hypervolume(&front, &r) - before).abs() < 1e-9);
    }
}
