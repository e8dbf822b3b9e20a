"""The consumer's bulk frame reader must hand py-amqp the same frames, however the bytes are split."""
import struct
from types import SimpleNamespace

import pytest
from amqp.exceptions import UnexpectedFrame

from crm_shared.consumer import FrameReader


def frame(frame_type: int, channel: int, payload: bytes) -> bytes:
    return struct.pack(">BHI", frame_type, channel, len(payload)) + payload + b"\xce"


FRAMES = [(1, 1, b"\x00<\x00<method-args"), (2, 1, b"header" * 3), (3, 1, b"body" * 500), (8, 0, b""),
          (1, 1, b"\x00<\x00<next"), (2, 1, b"h"), (3, 1, b"x")]
STREAM = b"".join(frame(*f) for f in FRAMES)


class FakeSocket:
    def __init__(self, chunks):
        self.chunks, self.timeout = list(chunks), None

    def gettimeout(self):
        return self.timeout

    def settimeout(self, timeout):
        self.timeout = timeout

    def recv(self, _size):
        if not self.chunks:
            raise TimeoutError()
        return self.chunks.pop(0)


def reader_over(chunks):
    seen = []
    transport = SimpleNamespace(sock=FakeSocket(chunks), _read_buffer=b"", connected=True)
    connection = SimpleNamespace(transport=transport, on_inbound_frame=seen.append)
    return FrameReader(SimpleNamespace(connection=connection)), transport, seen


@pytest.mark.parametrize("size", [1, 3, 7, 8, 64, 1000, len(STREAM)])
def test_frames_split_anywhere_arrive_whole_and_in_order(size):
    chunks = [STREAM[i:i + size] for i in range(0, len(STREAM), size)]
    reader, transport, seen = reader_over(chunks)
    for _ in chunks:
        reader.read(0.1)
    assert [(t, c, bytes(p)) for t, c, p in seen] == FRAMES
    assert transport._read_buffer == b""
    assert transport.sock.timeout is None  # py-amqp's writes keep their blocking socket


def test_an_incomplete_frame_waits_in_the_transport_buffer_for_py_amqp_or_the_next_read():
    reader, transport, seen = reader_over([STREAM[:30]])
    reader.read(0.1)
    assert len(seen) == 1 and transport._read_buffer == STREAM[len(frame(*FRAMES[0])):30]
    with pytest.raises(TimeoutError):
        reader.read(0.1)


def test_a_bad_frame_end_is_refused_and_a_closed_socket_is_reported():
    reader, transport, _ = reader_over([frame(1, 1, b"abc")[:-1] + b"\x00"])
    with pytest.raises(UnexpectedFrame):
        reader.read(0.1)
    reader, transport, _ = reader_over([b""])
    with pytest.raises(ConnectionError):
        reader.read(0.1)
    assert transport.connected is False
