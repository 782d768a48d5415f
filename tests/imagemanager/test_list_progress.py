"""What a caller learns while the repository list arrives."""

import pytest

from imgdash.imagemanager import ImageManagerClient, Unavailable


class Recorder:
    def __init__(self):
        self.events = []

    def receiving(self, received, total):
        self.events.append(("receiving", received, total))

    def indexing(self, repositories):
        self.events.append(("indexing", repositories))


@pytest.fixture
def admin(emulator):
    with ImageManagerClient(emulator.api_url, emulator.issue_id_token("admin")) as client:
        yield client


def test_it_reports_the_bytes_received_then_indexing_with_the_count(admin, emulator):
    recorder = Recorder()
    emulator.faults.add(path=r"/repositories$", rate=200_000)  # the body arrives in pieces

    repositories = admin.list_repositories(progress=recorder)

    received = [event for event in recorder.events if event[0] == "receiving"]
    assert len(received) >= 2
    sizes = [size for _, size, _ in received]
    assert sizes == sorted(sizes)
    total = received[-1][1]
    assert all(event[2] == total for event in received)  # the answer's Content-Length
    assert recorder.events[-2:] == [("indexing", None), ("indexing", len(repositories))]


def test_a_refused_list_reports_no_progress(admin, emulator):
    recorder = Recorder()
    emulator.faults.add(path=r"/repositories$", status=503, body="down\n")

    with pytest.raises(Unavailable):
        admin.list_repositories(progress=recorder)

    assert recorder.events == []
