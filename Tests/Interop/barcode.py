"""A frame counter drawn into video frames coarsely enough to survive lossy coding.

Layout on a 320x240 yuv420p frame, every block aligned to 16x16 macroblocks:
three rows of eight 32x48 blocks starting at (32, 32), 64 pixels apart vertically.
Rows 0 and 1 carry the 16-bit counter (most significant bit first), row 2 an 8-bit
check value, so a misread frame is rejected rather than reported with a wrong counter.
Black (Y=16) is a one, white (Y=235) a zero; the background is mid grey with a
horizontal ramp that moves with the counter so that the encoder sees motion.
Pure Python (no numpy): planes are written and read as bytes with their line size.
"""

from array import array
import math

WIDTH = 320
HEIGHT = 240
BLOCK_W = 32
BLOCK_H = 48
ORIGIN_X = 32
ORIGIN_Y = 32
ROW_PITCH = 64
BLACK = 16
WHITE = 235


def check_byte(counter: int) -> int:
    """The 8-bit check value of a 16-bit counter."""
    return ((counter >> 8) ^ (counter & 0xFF) ^ 0xA5) & 0xFF


def _bits(counter: int) -> list:
    value = ((counter & 0xFFFF) << 8) | check_byte(counter & 0xFFFF)
    return [(value >> (23 - index)) & 1 for index in range(24)]


def _block_origin(index: int) -> tuple:
    row, column = divmod(index, 8)
    return ORIGIN_X + column * BLOCK_W, ORIGIN_Y + row * ROW_PITCH


def draw_luma(counter: int, stride: int = WIDTH) -> bytes:
    """The Y plane (HEIGHT rows of `stride` bytes) showing `counter`."""
    shift = (counter * 4) % WIDTH
    row = bytearray(stride)
    for x in range(WIDTH):
        row[x] = 96 + ((x + shift) % WIDTH) * 64 // WIDTH
    plane = bytearray(bytes(row) * HEIGHT)
    for index, bit in enumerate(_bits(counter)):
        x0, y0 = _block_origin(index)
        value = bytes([BLACK if bit else WHITE]) * BLOCK_W
        for y in range(y0, y0 + BLOCK_H):
            start = y * stride + x0
            plane[start:start + BLOCK_W] = value
    return bytes(plane)


def read_luma(plane: bytes, stride: int) -> "int | None":
    """The counter shown in a Y plane, or None when the check value does not match."""
    value = 0
    for index in range(24):
        x0, y0 = _block_origin(index)
        total = 0
        count = 0
        # Sample the inner 16x16 of each block: edges blur under lossy coding.
        for y in range(y0 + 16, y0 + 32):
            start = y * stride + x0 + 8
            for sample in plane[start:start + 16]:
                total += sample
                count += 1
        bit = 1 if total / count < (BLACK + WHITE) / 2 else 0
        value = (value << 1) | bit
    counter = value >> 8
    return counter if (value & 0xFF) == check_byte(counter) else None


def make_frame(counter: int):
    """An av.VideoFrame (yuv420p, grey chroma) showing `counter`."""
    import av

    frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
    luma = frame.planes[0]
    luma.update(draw_luma(counter, luma.line_size)[: luma.buffer_size])
    for plane in frame.planes[1:]:
        plane.update(bytes([128]) * plane.buffer_size)
    return frame


def read_frame(frame) -> "int | None":
    """The counter in a decoded av.VideoFrame (converted to 320x240 yuv420p if needed)."""
    if frame.format.name != "yuv420p" or frame.width != WIDTH or frame.height != HEIGHT:
        frame = frame.reformat(width=WIDTH, height=HEIGHT, format="yuv420p")
    plane = frame.planes[0]
    return read_luma(bytes(plane), plane.line_size)


def tone_samples(start: int, count: int, rate: int = 48000, frequency: float = 440.0, amplitude: int = 8000) -> bytes:
    """`count` s16 mono samples of a sine tone starting at sample index `start`."""
    samples = array("h", (int(amplitude * math.sin(2 * math.pi * frequency * (start + n) / rate)) for n in range(count)))
    return samples.tobytes()


def rms_s16(data: bytes) -> float:
    """Root mean square of interleaved s16 samples."""
    samples = array("h")
    samples.frombytes(data[: len(data) - len(data) % 2])
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))
