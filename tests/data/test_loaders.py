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
