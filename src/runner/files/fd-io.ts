import * as fs from "node:fs";

/*
 * Plain-fd wrappers over node:fs callbacks. Bun's FileHandle (fs/promises) is avoided on purpose:
 * one that is garbage-collected unclosed throws and takes the process down, and each call costs
 * about three times as much. Every fd opened here is closed exactly once by its owner.
 */

function call<T>(run: (done: (error: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    run((error, value) => (error ? reject(error) : resolve(value)));
  });
}

export function openFd(path: string, flags: number, mode = 0o666): Promise<number> {
  return call((done) => fs.open(path, flags, mode, done));
}

export function closeFd(fd: number): Promise<void> {
  return call((done) => fs.close(fd, (error) => done(error, undefined)));
}

export function fstatFd(fd: number): Promise<fs.Stats> {
  return call((done) => fs.fstat(fd, done));
}

export function readFd(fd: number, buffer: Uint8Array, offset: number, length: number, position: number) {
  return call<number>((done) => fs.read(fd, buffer, offset, length, position, done));
}

export function writeFd(fd: number, buffer: Uint8Array, offset: number, length: number, position: number) {
  return call<number>((done) => fs.write(fd, buffer, offset, length, position, done));
}

export function fsyncFd(fd: number): Promise<void> {
  return call((done) => fs.fsync(fd, (error) => done(error, undefined)));
}

export function fchmodFd(fd: number, mode: number): Promise<void> {
  return call((done) => fs.fchmod(fd, mode, (error) => done(error, undefined)));
}
