import gzip

import numpy as np
import pytest

from nichelab.data.loaders import load_csv, load_dataset, load_idx, load_image_folder, load_npz
from nichelab.errors import NichelabError


def test_npz_roundtrip(tmp_path):
    X = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    y = np.arange(10) % 3
    np.savez(tmp_path / "d.npz", X=X, y=y)
    d = load_npz(tmp_path / "d.npz")
    np.testing.assert_array_equal(d.X, X)
    np.testing.assert_array_equal(d.y, y)
    assert d.class_names == ["0", "1", "2"]


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "a.npz", X=np.zeros((3, 2)))
    with pytest.raises(NichelabError, match="'y'"):
        load_npz(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", X=np.zeros((3, 2)), y=np.zeros(4, int))
    with pytest.raises(NichelabError, match="same number of samples"):
        load_npz(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", X=np.zeros((2, 2)), y=np.array([0.5, 1.0]))
    with pytest.raises(NichelabError, match="integers"):
        load_npz(tmp_path / "c.npz")
    np.savez(tmp_path / "n.npz", X=np.array([[np.nan, 1.0]]), y=np.array([0]))
    with pytest.raises(NichelabError, match="finite"):
        load_npz(tmp_path / "n.npz")
    (tmp_path / "bad.npz").write_text("not a zip")
    with pytest.raises(NichelabError, match="readable"):
        load_npz(tmp_path / "bad.npz")


def test_csv_with_string_labels(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b,species\n1,2,cat\n3,4,dog\n5,6,cat\n")
    d = load_csv(p, "species")
    np.testing.assert_array_equal(d.X, [[1, 2], [3, 4], [5, 6]])
    assert d.class_names == ["cat", "dog"] and d.y.tolist() == [0, 1, 0]
    with pytest.raises(NichelabError, match="did you mean 'species'"):
        load_csv(p, "specie")


def test_csv_non_numeric_feature(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,label\nx,0\n")
    with pytest.raises(NichelabError, match="numeric"):
        load_csv(p)


def test_image_folder(tmp_path):
    from skimage import io as skio
    for k, cls in enumerate(["bright", "dark"]):
        (tmp_path / cls).mkdir()
        for i in range(3):
            img = np.full((12, 10), 250 if k == 0 else 5, dtype=np.uint8)
            skio.imsave(tmp_path / cls / f"{i}.png", img, check_contrast=False)
    d = load_image_folder(tmp_path, size=8)
    assert d.X.shape == (6, 1, 8, 8) and d.class_names == ["bright", "dark"]
    assert d.X[d.y == 0].min() > 0.9 and d.X[d.y == 1].max() < 0.1


def test_idx_files(tmp_path):
    imgs = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    labels = np.array([1, 0], dtype=np.uint8)
    with gzip.open(tmp_path / "i.gz", "wb") as fh:
        fh.write(bytes([0, 0, 8, 3]) + b"".join(int(s).to_bytes(4, "big") for s in imgs.shape) + imgs.tobytes())
    (tmp_path / "l").write_bytes(bytes([0, 0, 8, 1]) + (2).to_bytes(4, "big") + labels.tobytes())
    d = load_idx(tmp_path / "i.gz", tmp_path / "l")
    assert d.X.shape == (2, 1, 3, 3) and d.y.tolist() == [1, 0]
    assert d.X[0, 0, 0, 1] == pytest.approx(1 / 255)


def test_unknown_dataset_name_suggests():
    with pytest.raises(NichelabError, match="did you mean 'digits'"):
        load_dataset("digit")


# ------------------------------------------------------------------- labels of any kind -> 0..k-1
def test_year_labels_map_to_three_classes(tmp_path):
    p = tmp_path / "years.csv"
    rows = [f"{i},{i % 5},{2019 + i % 3}" for i in range(12)]
    p.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    d = load_csv(p)
    assert d.class_names == ["2019", "2020", "2021"] and d.n_classes == 3
    assert d.y.tolist() == [i % 3 for i in range(12)]
    assert d.meta["label_mapping"] == {2019: 0, 2020: 1, 2021: 2}


def test_huge_and_string_labels_map_quickly(tmp_path):
    y = np.array([0, 5, 10**12] * 4)
    np.savez(tmp_path / "h.npz", X=np.zeros((12, 2)), y=y)
    d = load_npz(tmp_path / "h.npz")
    assert d.n_classes == 3 and d.class_names == ["0", "5", "1000000000000"]
    np.testing.assert_array_equal(d.y, [0, 1, 2] * 4)
    np.savez(tmp_path / "s.npz", X=np.zeros((4, 2)), y=np.array(["b", "a", "b", "a"]))
    s = load_npz(tmp_path / "s.npz")
    assert s.class_names == ["a", "b"] and s.y.tolist() == [1, 0, 1, 0] and s.meta["label_mapping"] == {"a": 0, "b": 1}


def test_class_indices_with_a_missing_class_are_kept():
    from nichelab.data.loaders import _labels
    y, names, mapping = _labels(np.array([0, 2, 2, 0, 3, 3]), "--data")
    assert y.tolist() == [0, 2, 2, 0, 3, 3] and names == ["0", "1", "2", "3"]     # still the model's outputs
    y, names, _ = _labels(np.array([-1, 1, 1, -1]), "--data")
    assert y.tolist() == [0, 1, 1, 0] and names == ["-1", "1"]


def test_too_many_classes_is_one_clear_error(tmp_path):
    p = tmp_path / "ids.csv"
    p.write_text("a,label\n" + "\n".join(f"{i},{1000 + i}" for i in range(10)) + "\n")
    with pytest.raises(NichelabError, match=r"ids.csv.*10 different values in 10 samples.*more classes than half"):
        load_csv(p)


def test_garbage_files_name_file_expected_and_found(tmp_path):
    (tmp_path / "g.npz").write_bytes(b"\x00garbage")
    with pytest.raises(NichelabError, match=r"g.npz.*not a readable .npz file \(a numpy archive"):
        load_npz(tmp_path / "g.npz")
    (tmp_path / "g.csv").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(NichelabError, match=r"g.csv.*not a readable CSV file \(UTF-8 text"):
        load_csv(tmp_path / "g.csv")
    (tmp_path / "c0").mkdir()
    (tmp_path / "c0" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(NichelabError, match=r"broken.png.*expected an image file.*found"):
        load_image_folder(tmp_path)


# ----------------------------------------------------------------------------- images as they are
def _colour_folder(root, n=4, size=(6, 5)):
    """Class 'red' differs from 'green' only in the red/green channels; equal grey levels."""
    from skimage import io as skio
    rng = np.random.default_rng(0)
    for cls, ch in (("green", 1), ("red", 0)):
        (root / cls).mkdir()
        for i in range(n):
            img = np.zeros(size + (3,), np.uint8)
            img[..., ch] = 200 + rng.integers(0, 50)
            skio.imsave(root / cls / f"{i}.png", img, check_contrast=False)


def test_rgb_folder_keeps_channels_by_default(tmp_path):
    _colour_folder(tmp_path)
    d = load_image_folder(tmp_path)
    assert d.X.shape == (8, 3, 6, 5) and d.meta["channels"] == 3 and d.meta["normalize"] == "unit"
    red = d.X[d.y == d.class_names.index("red")]
    assert red[:, 0].min() > 0.7 and red[:, 1].max() == 0                 # the class lives in channel 0
    grey = load_image_folder(tmp_path, channels=1, size=(4, 4))
    assert grey.X.shape == (8, 1, 4, 4) and grey.meta["image_size"] == (4, 4)
    raw = load_image_folder(tmp_path, normalize="none")
    np.testing.assert_allclose(raw.X, d.X * 255, rtol=1e-5)


def test_normalize_imagenet_and_dataset(tmp_path):
    from nichelab.data.loaders import IMAGENET_MEAN, IMAGENET_STD
    _colour_folder(tmp_path)
    unit = load_image_folder(tmp_path).X
    inet = load_image_folder(tmp_path, normalize="imagenet")
    ref = (unit - np.array(IMAGENET_MEAN)[None, :, None, None]) / np.array(IMAGENET_STD)[None, :, None, None]
    np.testing.assert_allclose(inet.X, ref, rtol=1e-5, atol=1e-6)
    assert inet.meta["mean"] == list(IMAGENET_MEAN)
    ds = load_image_folder(tmp_path, normalize="dataset")
    np.testing.assert_allclose(ds.X.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(ds.X.std(axis=(0, 2, 3)), [1, 1, 0], atol=1e-4)   # blue is constant: left at 0
    with pytest.raises(NichelabError, match="imagenet needs 3-channel"):
        load_image_folder(tmp_path, channels=1, normalize="imagenet")
    with pytest.raises(NichelabError, match="^normalize must be"):
        load_image_folder(tmp_path, normalize="zscore")


# ------------------------------------------------------------------------------------ token data
def test_token_npz_and_iterable_of_dicts(tmp_path):
    from nichelab.data.loaders import model_inputs, tokens_dataset
    ids = np.array([[5, 6, 7], [8, 9, 0], [1, 2, 0], [3, 0, 0]])
    mask = (ids > 0).astype(np.int64)
    np.savez(tmp_path / "t.npz", input_ids=ids, attention_mask=mask, y=np.array(["pos", "neg", "pos", "neg"]))
    d = load_npz(tmp_path / "t.npz")
    assert d.X.dtype == np.int64 and d.meta["inputs"] == "tokens" and d.class_names == ["neg", "pos"]
    sub = d.subset(np.array([1, 3]))
    inp = model_inputs(sub)
    np.testing.assert_array_equal(inp["input_ids"], ids[[1, 3]])
    np.testing.assert_array_equal(inp["attention_mask"], mask[[1, 3]])
    items = [{"input_ids": [5, 6, 7]}, {"input_ids": [8, 9]}, {"input_ids": [1, 2]}, {"input_ids": [3]}]
    t = tokens_dataset(items, [1, 0, 1, 0])
    np.testing.assert_array_equal(t.X, ids)
    np.testing.assert_array_equal(t.meta["attention_mask"], mask)


# ------------------------------------------------------------------ memory-mapped features
def test_uncompressed_npz_and_npy_pair_are_memory_mapped(tmp_path):
    from nichelab.data.loaders import load_dataset, load_npz, npz_member_mmap
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5)).astype(np.float32)
    y = np.array(["b", "a"] * 20)
    np.savez(tmp_path / "plain.npz", X=X, y=y)
    np.savez_compressed(tmp_path / "packed.npz", X=X, y=y)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    plain, packed = load_npz(tmp_path / "plain.npz"), load_npz(tmp_path / "packed.npz")
    pair = load_dataset(f"{tmp_path / 'X.npy'},{tmp_path / 'y.npy'}")
    for d in (plain, packed, pair):
        np.testing.assert_array_equal(d.X, X)                       # the same values whichever way
        np.testing.assert_array_equal(d.y, (y == "b").astype(int))  # labels mapped in sorted order
        assert d.meta["label_mapping"] == {"a": 0, "b": 1}
    assert plain.meta["memory_mapped"] and pair.meta["memory_mapped"] and not packed.meta["memory_mapped"]
    assert isinstance(npz_member_mmap(tmp_path / "plain.npz", "X"), np.memmap)
    assert npz_member_mmap(tmp_path / "packed.npz", "X") is None        # compressed: read into memory
    assert not plain.X.flags.writeable and not plain.X.flags.owndata   # a view of the file, not a copy
    np.savez(tmp_path / "f64.npz", X=X.astype(np.float64), y=y)
    assert load_npz(tmp_path / "f64.npz").X.dtype == np.float32        # other dtypes are converted


def test_bad_npy_pair_names_the_files(tmp_path):
    from nichelab.data.loaders import load_dataset
    np.save(tmp_path / "X.npy", np.zeros((4, 2), np.float32))
    with pytest.raises(NichelabError, match=r"y\.npy.*two readable \.npy files"):
        load_dataset(f"{tmp_path / 'X.npy'},{tmp_path / 'y.npy'}")
