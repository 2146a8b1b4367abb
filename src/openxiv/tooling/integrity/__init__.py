"""Tooling around the integrity scanner (`openxiv.integrity`): the generated labelled corpus
(`corpus`, `corpus_text`, `layout`), the benchmarks behind `openxiv bench integrity` (`bench` on
the generated corpus, `bench_real` on real PDFs) and the build-time training of the classifier
whose weights the scanner ships in `openxiv/integrity/data/classifier.npz` (`training`)."""
