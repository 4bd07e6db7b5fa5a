"""collector.paused: the cyclic collector off inside, restored after, whatever happens."""

import gc

import pytest

from rewardlang import collector


@pytest.fixture(autouse=True)
def _collector_on():
    gc.enable()
    yield
    gc.enable()


def test_off_inside_and_on_after():
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_off_stays_off():
    gc.disable()
    with collector.paused(promote=True):
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_restored_when_the_block_raises():
    with pytest.raises(ValueError):
        with collector.paused():
            raise ValueError
    assert gc.isenabled()


def test_nested_blocks_restore_the_outer_state():
    with collector.paused():
        with collector.paused(promote=True):
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_collect_young_frees_the_cycles_the_block_left():
    gc.collect()
    with collector.paused(collect_young=True):
        for _ in range(100):
            _Cycle()
    assert not any(isinstance(o, _Cycle) for o in gc.get_objects(generation=0))
    assert not any(isinstance(o, _Cycle) for o in gc.get_objects())


def test_promote_moves_what_the_block_made_to_the_oldest_generation():
    gc.collect()
    with collector.paused(promote=True):
        kept = [[i] for i in range(1000)]
    assert gc.get_count()[0] < 50  # no young collection owed for them
    assert any(o is kept[0] for o in gc.get_objects(generation=2))


def test_engine_run_and_advance_pause_the_collector_and_restore_it():
    """Engine.run and Engine.advance hold the collector off while they work (docs/performance.md)
    and leave it as they found it, on or off."""
    import rewardlang
    from rewardlang.engine import Engine

    program = rewardlang.loads('program "P"\ncurrency SEK\ntimezone "UTC"\n'
                               'event purchase with amount money\n'
                               'rule "Base": purchase earns 1 point per 10 SEK\n')
    seen: list[bool] = []
    engine = Engine(program)
    kernel_apply = engine.kernel.apply_into

    def spying(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return kernel_apply(*args, **kwargs)

    engine.kernel.apply_into = spying  # type: ignore[method-assign]
    event = {"type": "purchase", "id": "p1", "customer": "c1", "time": "2026-01-05T10:00:00Z", "amount": "100"}
    assert [e.kind for e in engine.run([event]).effects] == ["points"]
    assert seen == [False] and gc.isenabled()
    engine.advance("2027-01-01T00:00:00Z")
    assert gc.isenabled()
    gc.disable()
    engine.run([dict(event, id="p2", time="2026-01-06T10:00:00Z")])
    assert not gc.isenabled()
