"""The translation check: what a translation may change (the prose, diagram labels) and what not."""

from __future__ import annotations

from pathlib import Path

from kubelab_docs.blocks import code_blocks
from kubelab_docs.site import counterpart, is_translation
from kubelab_docs.translations import check, compare

ENGLISH = """# A lab

Run it:

```console
$ uv run nox -s lab-cni
13 passed
```

<!-- labs:begin -->
| a | b |
<!-- labs:end -->

- a list item with a fence inside:

  ~~~yaml
  kind: Pod
  ~~~

```mermaid
flowchart TD
    A[the kubelet] --> B[the runtime]
```
"""

CHINESE = """# 一个实验

运行：

```console
$ uv run nox -s lab-cni
13 passed
```

<!-- labs:begin -->
| 甲 | 乙 |
<!-- labs:end -->

- 列表项，内含代码块：

  ~~~yaml
  kind: Pod
  ~~~

```mermaid
flowchart TD
    A[kubelet] --> B[容器运行时]
```
"""


def test_blocks_are_found_in_order_with_their_info_and_indentation() -> None:
    blocks = code_blocks(ENGLISH)
    assert [(b.language, b.line) for b in blocks] == [("console", 5), ("yaml", 16), ("mermaid", 20)]
    assert blocks[1].text == "kind: Pod"
    assert blocks[0].text == "$ uv run nox -s lab-cni\n13 passed"


def test_a_longer_fence_holds_a_shorter_one() -> None:
    text = "````markdown\n```console\n$ ls\n```\n````\n"
    assert [b.text for b in code_blocks(text)] == ["```console\n$ ls\n```"]


def test_a_faithful_translation_passes() -> None:
    assert compare(ENGLISH, CHINESE, Path("x.md")) == []


def test_a_changed_command_or_output_is_found() -> None:
    changed = CHINESE.replace("13 passed", "13 个通过")
    findings = compare(ENGLISH, changed, Path("x.md"))
    assert len(findings) == 1 and "block 1" in findings[0].problem and "differs" in findings[0].problem


def test_a_missing_block_a_missing_marker_and_an_extra_block_are_found() -> None:
    missing = CHINESE.replace("~~~yaml\n  kind: Pod\n  ~~~\n", "")
    assert any("became ```mermaid" in f.problem for f in compare(ENGLISH, missing, Path("x.md")))
    no_marker = CHINESE.replace("<!-- labs:end -->\n", "")
    assert any("markers differ" in f.problem for f in compare(ENGLISH, no_marker, Path("x.md")))
    extra = CHINESE + "\n```console\n$ true\n```\n"
    assert any("1 more code blocks" in f.problem for f in compare(ENGLISH, extra, Path("x.md")))


def test_a_page_without_its_counterpart_is_named(tmp_path: Path) -> None:
    (tmp_path / "labs" / "cni").mkdir(parents=True)
    (tmp_path / "labs" / "cni" / "README.md").write_text(ENGLISH)
    (tmp_path / "README.md").write_text(ENGLISH)
    (tmp_path / "README.zh.md").write_text(CHINESE)
    findings = check([Path("README.md"), Path("labs/cni/README.md")], tmp_path)
    assert [str(f) for f in findings] == ["labs/cni/README.md: no zh counterpart (labs/cni/README.zh.md)"]


def test_counterparts_and_translations_by_name() -> None:
    assert counterpart(Path("labs/cni/README.md")) == Path("labs/cni/README.zh.md")
    assert counterpart(Path("docs/index.md")) == Path("docs/index.zh.md")
    assert is_translation(Path("docs/index.zh.md")) and not is_translation(Path("docs/index.md"))
    assert not is_translation(Path("docs/v1.2.md"))
