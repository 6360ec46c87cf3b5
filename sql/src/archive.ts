import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { PartitionArchiver } from './partitions.js';

// Lines are grouped before they reach gzip: one write per row would cost a stream round trip each.
const CHUNK_BYTES = 64 * 1024;

async function* newlineTerminated(lines: AsyncIterable<string>): AsyncGenerator<string> {
  let chunk = '';
  for await (const line of lines) {
    chunk += `${line}\n`;
    if (chunk.length >= CHUNK_BYTES) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

async function fsyncPath(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The archive file gzipJsonLinesArchive writes for a partition. */
export function archiveFileName(partitionName: string): string {
  return `${partitionName}.jsonl.gz`;
}

/**
 * A PartitionArchiver writing `<directory>/<partition>.jsonl.gz`: gzip, one JSON object per line.
 * The file appears complete or not at all (written aside, fsynced, renamed), because the partition
 * is dropped as soon as this resolves. A second run for the same partition replaces the file.
 */
export function gzipJsonLinesArchive(directory: string): PartitionArchiver {
  return async (partition, lines) => {
    await mkdir(directory, { recursive: true });
    const file = path.join(directory, archiveFileName(partition.name));
    const partial = `${file}.partial`;
    try {
      await pipeline(Readable.from(newlineTerminated(lines)), createGzip(), createWriteStream(partial));
      await fsyncPath(partial);
      await rename(partial, file);
      await fsyncPath(directory);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  };
}
