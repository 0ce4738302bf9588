"""read_tfevents.py LOGDIR: reads the engine's TensorBoard event file the way TensorBoard
does and prints what it finds, for test-tfevents.c to compare with what it wrote:
  file NAME                  the event file's name
  version brain.Event:2      file_version of the first event
  scalar TAG STEP VALUE WALL (EventAccumulator's scalars)
Every record's two masked CRC-32C values are checked with TensorBoard's own crc32c;
a bad one exits with status 1."""
import glob
import os
import struct
import sys

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

logdir = sys.argv[1]
files = glob.glob(os.path.join(logdir, "events.out.tfevents.*"))
if len(files) != 1:
    print(f"# expected one event file, found {files}")
    sys.exit(1)
print("file " + os.path.basename(files[0]))
data = open(files[0], "rb").read()
pos, first = 0, True
while pos < len(data):
    header = data[pos:pos + 8]
    (length,) = struct.unpack("<Q", header)
    (len_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
    body = data[pos + 12:pos + 12 + length]
    (body_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
    if masked_crc32c(header) != len_crc or masked_crc32c(body) != body_crc:
        print(f"# bad CRC in the record at byte {pos}")
        sys.exit(1)
    if first:
        ev = event_pb2.Event()
        ev.ParseFromString(body)
        print("version " + ev.file_version)
        first = False
    pos += 16 + length
acc = event_accumulator.EventAccumulator(logdir)
acc.Reload()
for tag in sorted(acc.Tags()["scalars"]):
    for e in acc.Scalars(tag):
        print(f"scalar {tag} {e.step} {e.value!r} {e.wall_time!r}")
