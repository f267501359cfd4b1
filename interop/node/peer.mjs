// A node-ipc peer driven by the Go interop tests (interop/*_test.go).
//
// It runs on Node 22 with node-ipc 14 (ESM) and on Node 20 with node-ipc 9
// (CommonJS, loaded through a dynamic import): both export the IPC
// singleton as the module's default.
//
//   node peer.mjs '<config JSON>'
//
// config:
//   lib         directory holding node_modules/node-ipc (required)
//   role        "server" | "client"
//   net         "unix" | "tcp" | "tls" | "udp4" | "udp6"
//   id          service id (unix: socketRoot + appspace + id)
//   host, port  tcp/tls/udp address (a udp "client" binds port and emits
//               to target)
//   target      {address, port}: where a udp client emits
//   config      extra ipc.config keys (socketRoot, appspace, rawBuffer,
//               encoding, tls, retry, maxRetries, parser, ...)
//   echo        echo every received event (or raw chunk) to its sender
//   tap         report the raw bytes read from stream sockets
//   quiet       do not report events (only lifecycle and results)
//   bench       {seconds, inflight, size}: a client measures round trips
//
// Control protocol: one JSON object per line. stdout carries reports
// ({"ev":"ready"|"connect"|"disconnect"|"event"|"raw"|"wire"|"transcript"|
// "bench"|"error"|"log", ...}); stdin carries commands ({"cmd":...}, see
// command() below).
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import util from 'node:util';
import {pathToFileURL} from 'node:url';

const cfg = JSON.parse(process.argv[2]);
const pkgDir = path.join(cfg.lib, 'node-ipc');
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
if (!['14.0.0', '9.2.1'].includes(pkg.version)) {
    throw new Error(`refusing node-ipc ${pkg.version}: only 14.0.0 and 9.2.1 are allowed`);
}
const ipc = (await import(pathToFileURL(path.join(pkgDir, pkg.main || 'node-ipc.js')).href)).default;

function out(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

ipc.config.silent = true;
ipc.config.id = cfg.id || 'peer';
ipc.config.retry = 100;
Object.assign(ipc.config, cfg.config || {});
const raw = Boolean(ipc.config.rawBuffer);
const udp = cfg.net === 'udp4' || cfg.net === 'udp6';
const lifecycle = new Set(['start', 'connect', 'disconnect', 'destroy', 'close', 'socket.disconnected', 'error', 'data']);

// Peers (server sockets, udp peers) get a number for reports and commands.
let nextPeer = 1;
const peers = new Map();
let lastPeer = null;
function peerOf(socket) {
    if (!socket || typeof socket !== 'object') {
        return 0;
    }
    if (udp && socket.address && socket.port) {
        const key = `${socket.address}:${socket.port}`;
        if (!peers.has(key)) {
            peers.set(key, {n: nextPeer++, address: socket.address, port: socket.port});
        }
        lastPeer = peers.get(key);
        return lastPeer.n;
    }
    if (!socket.__peer) {
        socket.__peer = nextPeer++;
        peers.set(socket.__peer, socket);
    }
    lastPeer = socket;
    return socket.__peer;
}

function target(to) {
    if (udp) {
        if (to && typeof to === 'object') {
            return to;
        }
        if (typeof to === 'number') {
            for (const p of peers.values()) {
                if (p.n === to) {
                    return {address: p.address, port: p.port};
                }
            }
        }
        if (lastPeer) {
            return {address: lastPeer.address, port: lastPeer.port};
        }
        return cfg.target;
    }
    if (typeof to === 'number') {
        return peers.get(to);
    }
    return lastPeer;
}

// ---- transcripts: files of JSON lines [type, dataText|null] ----
function loadTranscript(file) {
    const items = [];
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        if (line === '') {
            continue;
        }
        const [type, text] = JSON.parse(line);
        if (text === null) {
            items.push({type, nodata: true});
            continue;
        }
        const data = JSON.parse(text);
        if (JSON.stringify(data) !== text) {
            out({ev: 'error', message: `transcript item is not in JSON.stringify form: ${text.slice(0, 80)}`});
        }
        items.push({type, data, text});
    }
    return items;
}

let expecting = null; // {items, i, bad}
function expectEvent(type, data) {
    const e = expecting;
    const want = e.items[e.i];
    const wantData = want.nodata ? {} : want.data;
    if (e.bad === null && (type !== want.type || !util.isDeepStrictEqual(data, wantData))) {
        e.bad = {index: e.i, type, wantType: want.type, data: JSON.stringify(data)?.slice(0, 200), want: JSON.stringify(wantData)?.slice(0, 200)};
    }
    e.i++;
    if (e.i === e.items.length) {
        out({ev: 'transcript', n: e.i, ok: e.bad === null, mismatch: e.bad});
        expecting = null;
    }
}

// ---- receiving ----
function onEvent(type, data, socket) {
    if (lifecycle.has(type)) {
        return;
    }
    const from = peerOf(socket);
    if (expecting) {
        expectEvent(type, data);
        return;
    }
    if (bench) {
        bench.got(type, data);
        return;
    }
    if (!cfg.quiet) {
        out({ev: 'event', type, data, from});
    }
    if (cfg.echo) {
        emit(type, data, socket, false);
    }
}

function onRaw(data, socket) {
    const from = peerOf(socket);
    if (!cfg.quiet) {
        out({ev: 'raw', hex: Buffer.from(data).toString('hex'), from});
    }
    if (cfg.echo) {
        emitRaw(Buffer.from(data), socket);
    }
}

function tap(socket) {
    if (cfg.tap && socket && typeof socket.on === 'function') {
        socket.on('data', (chunk) => out({ev: 'wire', s: typeof chunk === 'string' ? chunk : chunk.toString('latin1')}));
    }
}

// ---- sending ----
function emit(type, data, to, nodata) {
    if (cfg.role === 'client' && !udp) {
        const c = ipc.of[cfg.id];
        return nodata ? c.emit(type) : c.emit(type, data);
    }
    const dst = to && typeof to === 'object' && !udp ? to : target(to);
    return nodata ? ipc.server.emit(dst, type) : ipc.server.emit(dst, type, data);
}

function emitRaw(buf, to) {
    if (cfg.role === 'client' && !udp) {
        return ipc.of[cfg.id].emit(buf);
    }
    const dst = to && typeof to === 'object' && !udp ? to : target(to);
    return ipc.server.emit(dst, buf);
}

function socketOf(to) {
    if (cfg.role === 'client') {
        return ipc.of[cfg.id].socket;
    }
    return target(to);
}

// ---- bench: a client keeping `inflight` round trips in flight ----
let bench = null;
function startBench(b) {
    const payload = 'x'.repeat(b.size || 64);
    const inflight = b.inflight || 64;
    let n = 0;
    let running = true;
    const start = process.hrtime.bigint();
    bench = {
        got() {
            n++;
            if (running) {
                emit('ping', payload, null, false);
            }
        },
    };
    setTimeout(() => {
        running = false;
        const secs = Number(process.hrtime.bigint() - start) / 1e9;
        out({ev: 'bench', n, secs, rate: n / secs});
    }, (b.seconds || 1) * 1000);
    for (let i = 0; i < inflight; i++) {
        emit('ping', payload, null, false);
    }
}

// ---- commands ----
function command(c) {
    switch (c.cmd) {
    case 'emit': // {type, data?, nodata?, to?}
        emit(c.type, c.data, c.to, c.nodata || !('data' in c));
        break;
    case 'broadcast':
        if ('data' in c) {
            ipc.server.broadcast(c.type, c.data);
        } else {
            ipc.server.broadcast(c.type);
        }
        break;
    case 'raw': // {hex, to?}: an emit in rawBuffer mode
        emitRaw(Buffer.from(c.hex, 'hex'), c.to);
        break;
    case 'write': { // {hex, to?}: bytes straight onto the socket, bypassing node-ipc
        const s = socketOf(c.to);
        s.write(Buffer.from(c.hex, 'hex'));
        break;
    }
    case 'send': { // {file, to?}: emit every transcript item in order
        for (const it of loadTranscript(c.file)) {
            emit(it.type, it.data, c.to, it.nodata);
        }
        out({ev: 'sent'});
        break;
    }
    case 'expect': // {file}: compare the next events with the transcript
        expecting = {items: loadTranscript(c.file), i: 0, bad: null};
        out({ev: 'expecting', n: expecting.items.length});
        break;
    case 'bench':
        startBench(c);
        break;
    case 'ping':
        out({ev: 'pong'});
        break;
    case 'exit':
        process.exit(0);
        break;
    default:
        out({ev: 'error', message: `unknown command ${c.cmd}`});
    }
}

readline.createInterface({input: process.stdin}).on('line', (line) => {
    if (line.trim() === '') {
        return;
    }
    try {
        command(JSON.parse(line));
    } catch (err) {
        out({ev: 'error', message: String(err && err.stack || err)});
    }
});
process.stdin.on('end', () => process.exit(0));

// ---- start ----

// hook sees every event an emitter publishes, wire events and lifecycle
// alike, before its handlers. (node-ipc 9's event-pubsub picks its ES5 build
// on Node >= 10, whose '*' handlers are broken, so no '*' here.) A handler
// that throws still throws: node-ipc's own behaviour is kept.
function hook(emitter, fn) {
    const orig = emitter.publish;
    emitter.publish = function (type, ...args) {
        fn(type, ...args);
        return orig.call(this, type, ...args);
    };
}
function errMsg(err) {
    return String(err && (err.code || err.message) || err);
}

if (cfg.role === 'server' || udp) {
    const start = () => {
        const srv = ipc.server;
        srv.on('connect', (socket) => {
            if (!udp) {
                out({ev: 'connect', from: peerOf(socket)});
                tap(socket);
            }
        });
        srv.on('socket.disconnected', (socket) => out({ev: 'disconnect', from: socket && socket.__peer || 0}));
        srv.on('error', (err) => out({ev: 'error', message: errMsg(err)}));
        if (raw) {
            srv.on('data', (data, socket) => onRaw(data, socket));
        }
        const ready = () => {
            const s = srv.server;
            let port = cfg.port;
            try {
                port = s.address().port || port;
            } catch {
                // unix sockets and not yet bound datagram sockets
            }
            out({ev: 'ready', port, path: srv.path, version: pkg.version, node: process.version});
            if (cfg.bench && udp) {
                startBench(cfg.bench);
            }
        };
        if (udp) {
            // node-ipc 9 reports start before the bind completes.
            srv.server.once ? (() => {
                try {
                    srv.server.address();
                    ready();
                } catch {
                    srv.server.once('listening', ready);
                }
            })() : ready();
        } else {
            ready();
        }
    };
    if (cfg.net === 'unix') {
        ipc.serve(start);
    } else if (udp) {
        ipc.serveNet(cfg.host, cfg.port, cfg.net, start);
    } else {
        ipc.serveNet(cfg.host, cfg.port, start);
    }
    hook(ipc.server, (type, data, socket) => onEvent(type, data, socket));
    ipc.server.start();
} else {
    const done = () => {
        const c = ipc.of[cfg.id];
        hook(c, (type, data) => onEvent(type, data, null));
        c.on('connect', () => {
            out({ev: 'connect'});
            tap(c.socket);
            if (cfg.bench) {
                startBench(cfg.bench);
            }
        });
        c.on('disconnect', () => out({ev: 'disconnect'}));
        c.on('destroy', () => out({ev: 'destroy'}));
        c.on('error', (err) => out({ev: 'error', message: errMsg(err)}));
        if (raw) {
            c.on('data', (data) => onRaw(data, null));
        }
    };
    if (cfg.net === 'unix') {
        ipc.connectTo(cfg.id, done);
    } else {
        ipc.connectToNet(cfg.id, cfg.host, cfg.port, done);
    }
    out({ev: 'ready', version: pkg.version, node: process.version});
}
