"""Splits that don't leak (issue 9 item 2): whole groups on one side, on by default when the column exists."""

import pytest

from workbench.data.dataset import DataError, load_dataset
from workbench.data.split import split_dataset, split_groups
from workbench.train.pipeline import prepare
from helpers import SAMPLE_45
from shared_data import corpus_file


@pytest.fixture(scope="module")
def medquad():
    """The whole real corpus (13,191 pairs, 4,388 documents): the tests using it are marked corpus."""
    return load_dataset(corpus_file("medquad_dev.csv"))


def sides(labels, tr, va):
    return {labels[i] for i in tr}, {labels[i] for i in va}


def test_groups_stay_whole_seeded_and_near_the_fraction():
    labels = [f"g{i % 37}" for i in range(500)] + [""] * 20           # 20 rows without a group: single rows
    tr, va = split_groups(labels, 0.25, seed=1)
    assert sorted(tr + va) == list(range(520)) and not set(tr) & set(va)
    train_groups, val_groups = sides(labels, tr, va)
    assert not (train_groups & val_groups) - {""}                      # no group on both sides
    assert 0.25 * 520 <= len(va) < 0.25 * 520 + 14                     # overshoots by less than one group
    assert split_groups(labels, 0.25, seed=1) == (tr, va)              # deterministic
    assert split_groups(labels, 0.25, seed=2) != (tr, va)
    # the rows' order does not change which groups are held out
    order = list(range(520))[::-1]
    tr2, va2 = split_groups([labels[i] for i in order], 0.25, seed=1)
    assert {labels[order[i]] for i in va2} - {""} == val_groups - {""}


@pytest.mark.corpus("medquad_dev.csv")
def test_default_holds_out_whole_documents_of_medquad(medquad):
    tr, va, info = split_dataset(medquad, 0.2, seed=0)                 # split.group_column defaults to "auto"
    docs = medquad.column("document")
    train_docs, val_docs = sides(docs, tr, va)
    assert info["method"] == "groups" and info["group_column"] == "document"
    assert not train_docs & val_docs and len(train_docs) + len(val_docs) == 4388
    assert abs(len(va) / len(medquad) - 0.2) < 0.01
    assert "no group is on both sides" in info["text"]


@pytest.mark.corpus("medquad_dev.csv")
def test_grouping_can_be_turned_off_or_pointed_at_a_column(medquad):
    tr, va, info = split_dataset(medquad, 0.2, seed=0, group_setting="")
    train_docs, val_docs = sides(medquad.column("document"), tr, va)
    assert info["method"] == "rows" and "turned off" in info["text"]
    assert len(train_docs & val_docs) > 500                            # a row split leaks documents
    _, _, info = split_dataset(medquad, 0.2, seed=0, group_setting="category")
    assert info["method"] == "groups" and info["group_column"] == "category"
    with pytest.raises(DataError) as e:
        split_dataset(medquad, 0.2, seed=0, group_setting="chapter")
    assert "split.group_column names 'chapter'" in str(e.value)


def test_prepare_groups_by_default_and_says_how(make_config, tmp_path):
    ds = load_dataset(SAMPLE_45)
    for i, p in enumerate(ds.pairs):
        p.extra = {"group": f"topic{i // 5}"}                           # 9 groups of 5 rows
    ds.columns = ["group"]
    p = prepare(make_config(), ds)
    train_groups = {x.extra["group"] for x in p.train.pairs}
    val_groups = {x.extra["group"] for x in p.val.pairs}
    assert not train_groups & val_groups and p.split["method"] == "groups"
    assert len(p.val) == 10 and any("whole groups of column 'group'" in n for n in p.notes)
    off = prepare(make_config(**{"split.group_column": ""}), ds)
    assert off.split["method"] == "rows" and len(off.val) == 9


def test_explicit_validation_file_says_whether_groups_are_shared(make_config, tmp_path):
    from workbench.data.dataset import save_dataset
    ds = load_dataset(SAMPLE_45)
    for i, p in enumerate(ds.pairs):
        p.extra = {"document": f"doc{i // 5}"}
    ds.columns = ["document"]
    save_dataset(ds.subset(list(range(0, 33))), tmp_path / "train.csv")     # doc6 (rows 30-34) on both sides
    save_dataset(ds.subset(list(range(33, 45))), tmp_path / "val.csv")
    p = prepare(make_config(), str(tmp_path / "train.csv"), str(tmp_path / "val.csv"))
    assert p.split["shared_groups"] == 1 and "1 group of column 'document' is in both files" in p.notes[0]
    save_dataset(ds.subset(list(range(0, 35))), tmp_path / "train.csv")
    save_dataset(ds.subset(list(range(35, 45))), tmp_path / "val.csv")
    p = prepare(make_config(), str(tmp_path / "train.csv"), str(tmp_path / "val.csv"))
    assert p.split["shared_groups"] == 0 and "no group of column 'document' is in both files" in p.split["text"]
