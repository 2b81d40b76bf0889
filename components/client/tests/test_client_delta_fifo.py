from __future__ import annotations

import threading

import pytest

from kubelab_client.delta_fifo import Delta, DeltaFIFO, DeltaType, FIFOClosedError
from kubelab_client.keys import DeletedFinalStateUnknown
from kubelab_client.store import Indexer


def cm(name: str, rv: str = "1") -> dict:
    return {"metadata": {"name": name, "namespace": "ns", "resourceVersion": rv}}


def pop_all(fifo: DeltaFIFO) -> list[tuple[str, list[DeltaType]]]:
    popped: list[tuple[str, list[DeltaType]]] = []

    def process(deltas: list[Delta], initial: bool) -> None:
        key = deltas[0].obj["metadata"]["name"] if isinstance(deltas[0].obj, dict) else deltas[0].obj.key
        popped.append((key, [d.type for d in deltas]))

    while len(fifo):
        fifo.pop(process)
    return popped


def test_deltas_accumulate_per_key_in_first_in_order() -> None:
    fifo = DeltaFIFO()
    fifo.add(cm("a"))
    fifo.add(cm("b"))
    fifo.update(cm("a", "2"))
    fifo.delete(cm("a", "3"))
    assert pop_all(fifo) == [
        ("a", [DeltaType.ADDED, DeltaType.UPDATED, DeltaType.DELETED]),
        ("b", [DeltaType.ADDED]),
    ]


def test_replace_queues_tombstones_for_known_objects_missing_from_the_list() -> None:
    known = Indexer()
    known.add(cm("stays"))
    known.add(cm("vanished"))
    fifo = DeltaFIFO(known_objects=known)
    fifo.replace([cm("stays", "2"), cm("new")], "10")
    seen: dict[str, list[Delta]] = {}

    def process(deltas: list[Delta], initial: bool) -> None:
        obj = deltas[0].obj
        seen[obj.key if isinstance(obj, DeletedFinalStateUnknown) else obj["metadata"]["name"]] = deltas

    while len(fifo):
        fifo.pop(process)
    assert [d.type for d in seen["stays"]] == [DeltaType.REPLACED]
    assert [d.type for d in seen["new"]] == [DeltaType.REPLACED]
    tomb = seen["ns/vanished"][0]
    assert tomb.type is DeltaType.DELETED
    assert isinstance(tomb.obj, DeletedFinalStateUnknown) and tomb.obj.obj == cm("vanished")


def test_replace_also_deletes_queued_but_unlisted_keys_once() -> None:
    fifo = DeltaFIFO(known_objects=Indexer())
    fifo.add(cm("queued"))
    fifo.replace([], "5")
    fifo.replace([], "6")  # no second delete for the same key
    (deltas,) = [fifo.deltas("ns/queued")]
    assert [d.type for d in deltas] == [DeltaType.ADDED, DeltaType.DELETED]


def test_delete_of_unknown_object_is_ignored_and_double_delete_collapses() -> None:
    known = Indexer()
    fifo = DeltaFIFO(known_objects=known)
    fifo.delete(cm("never-seen"))
    assert len(fifo) == 0
    known.add(cm("x"))
    fifo.delete(DeletedFinalStateUnknown("ns/x", cm("x")))
    fifo.delete(cm("x", "9"))  # the real object replaces the tombstone
    assert [(d.type, d.obj) for d in fifo.deltas("ns/x")] == [(DeltaType.DELETED, cm("x", "9"))]


def test_resync_queues_sync_for_known_objects_not_queued() -> None:
    known = Indexer()
    known.add(cm("a"))
    known.add(cm("b"))
    fifo = DeltaFIFO(known_objects=known)
    fifo.update(cm("a", "2"))
    fifo.resync()
    assert [d.type for d in fifo.deltas("ns/a")] == [DeltaType.UPDATED]
    assert [d.type for d in fifo.deltas("ns/b")] == [DeltaType.SYNC]


def test_has_synced_after_initial_list_is_popped() -> None:
    fifo = DeltaFIFO(known_objects=Indexer())
    assert not fifo.has_synced()
    fifo.replace([cm("a"), cm("b")], "1")
    assert not fifo.has_synced()
    initial_flags: list[bool] = []
    fifo.pop(lambda deltas, initial: initial_flags.append(initial))
    assert not fifo.has_synced()
    fifo.add(cm("c"))
    fifo.pop(lambda deltas, initial: initial_flags.append(initial))
    assert fifo.has_synced() and fifo.synced.is_set()
    fifo.pop(lambda deltas, initial: initial_flags.append(initial))
    assert initial_flags == [True, True, False]


def test_empty_initial_list_is_synced_at_once() -> None:
    fifo = DeltaFIFO(known_objects=Indexer())
    fifo.replace([], "1")
    assert fifo.synced.is_set()


def test_pop_blocks_until_add_and_close_unblocks() -> None:
    fifo = DeltaFIFO()
    assert fifo.pop(lambda d, i: None, timeout=0.01) is False
    got = threading.Event()
    popper = threading.Thread(target=lambda: fifo.pop(lambda d, i: got.set()))
    popper.start()
    fifo.add(cm("a"))
    assert got.wait(2)
    popper.join(2)
    fifo.close()
    with pytest.raises(FIFOClosedError):
        fifo.pop(lambda d, i: None)
