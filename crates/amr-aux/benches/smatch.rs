//! Smatch on The Little Prince (1,562 graphs) against its perturbed copy in `tests/golden/`,
//! the input on which the reference tool's time is measured by
//! `datasets/scripts/amr/make_smatch_golden.py` (`reference_wall_s` in the golden JSON).

#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use std::path::Path;

use amr_aux::read_amr_file;
use amr_aux::smatch::{SmatchConfig, smatch_corpus};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    burnlp_runtime::keep_freed_memory();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let gold = read_amr_file(&root.join("../../../shared/datasets/amr/little_prince_v1.6.txt"))
        .expect("the Little Prince AMR bank in ../shared/datasets/amr");
    let pred = read_amr_file(&root.join("tests/golden/little_prince_perturbed.txt"))
        .expect("the perturbed copy");
    let mut group = c.benchmark_group("smatch_little_prince");
    group.sample_size(20);
    group.bench_function("parse_both_files", |b| {
        b.iter(|| {
            let g =
                read_amr_file(&root.join("../../../shared/datasets/amr/little_prince_v1.6.txt"));
            let p = read_amr_file(&root.join("tests/golden/little_prince_perturbed.txt"));
            (g.unwrap().len(), p.unwrap().len())
        })
    });
    let climb = SmatchConfig {
        exact_budget: 0,
        ..SmatchConfig::default()
    };
    group.bench_function("hill_climbing", |b| {
        b.iter(|| smatch_corpus(&pred, &gold, &climb).unwrap().matched)
    });
    let default = SmatchConfig::default();
    group.bench_function("hill_climbing_and_branch_and_bound", |b| {
        b.iter(|| smatch_corpus(&pred, &gold, &default).unwrap().matched)
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
