import pytest

from paperwire.arxiv_ids import InvalidArxivId, normalize_arxiv_id, parse_arxiv_id


@pytest.mark.parametrize(
    ("text", "expected", "version"),
    [
        ("2608.19880", "2608.19880", None),
        ("2608.19880v3", "2608.19880", 3),
        ("arXiv:2608.19880v2", "2608.19880", 2),
        ("0704.0001", "0704.0001", None),
        ("https://arxiv.org/abs/2608.19880v1", "2608.19880", 1),
        ("https://arxiv.org/pdf/2608.19880.pdf", "2608.19880", None),
        ("hep-th/9901001", "hep-th/9901001", None),
        ("hep-th/9901001v2", "hep-th/9901001", 2),
        ("math.AP/0601001", "math/0601001", None),
        ("  2501.00001 ", "2501.00001", None),
    ],
)
def test_parses_new_and_old_ids(text, expected, version):
    parsed = parse_arxiv_id(text)
    assert parsed.id == expected
    assert parsed.version == version


@pytest.mark.parametrize(
    "text", ["", "abc", "2608.1988", "2613.12345", "hep-th/99", "1234.56789v", "<script>", "../x"]
)
def test_rejects_non_ids_with_a_clear_message(text):
    with pytest.raises(InvalidArxivId, match="not an arXiv id"):
        normalize_arxiv_id(text)
