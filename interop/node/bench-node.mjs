// The node-ipc lane of `goipc bench --compare` (bench/node.go): node-ipc 14
// on Node 22, JSON events, a string payload of `size` characters.
//
//   node bench-node.mjs '<config JSON>'
//
// config:
//   lib        directory holding node_modules/node-ipc (14.0.0 only)
//   role       "server" | "client"
//   net        "unix" | "tcp"
//   socketRoot unix: directory (with the trailing slash); id: service id
//   port       tcp port (127.0.0.1)
//   mode       server: "echo" (answer "ping" with "ping") | "count" (count
//              "m" events; report when the client goes)
//              client: "rtt" (keep `window` pings in flight) | "stream"
//              (emit "m" as fast as the socket drains)
//   size, window, seconds
//
// Reports, one JSON line each on stdout: {"ev":"ready"} from a server once
// it listens; {"ev":"result", n, secs, p50, p99, p999} (µs) from an rtt
// client or a counting server.
import fs from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const cfg = JSON.parse(process.argv[2]);
const pkgDir = path.join(cfg.lib, 'node-ipc');
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
if (pkg.version !== '14.0.0') {
    throw new Error(`refusing node-ipc ${pkg.version}: the bench lane runs 14.0.0 only`);
}
const ipc = (await import(pathToFileURL(path.join(pkgDir, pkg.main || 'node-ipc.js')).href)).default;

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
ipc.config.silent = true;
ipc.config.id = cfg.id || 'bench';
ipc.config.retry = 100;
ipc.config.maxConnections = 1000;
if (cfg.socketRoot) {
    ipc.config.socketRoot = cfg.socketRoot;
    ipc.config.appspace = '';
}
const payload = 'x'.repeat(cfg.size || 64);
const now = () => Number(process.hrtime.bigint()) / 1e3; // µs

function quantiles(lat) {
    lat.sort((a, b) => a - b);
    const q = (p) => (lat.length ? lat[Math.floor(p * (lat.length - 1))] : 0);
    return {p50: q(0.5), p99: q(0.99), p999: q(0.999)};
}

if (cfg.role === 'server') {
    let n = 0;
    let t0 = 0;
    let t1 = 0;
    const start = () => {
        if (cfg.mode === 'echo') {
            ipc.server.on('ping', (data, socket) => ipc.server.emit(socket, 'ping', data));
        } else {
            ipc.server.on('m', () => {
                const t = now();
                if (n === 0) {
                    t0 = t;
                }
                n++;
                t1 = t;
            });
            ipc.server.on('socket.disconnected', () => {
                out({ev: 'result', n, secs: (t1 - t0) / 1e6});
            });
        }
        out({ev: 'ready'});
    };
    if (cfg.net === 'unix') {
        ipc.serve(start);
    } else {
        ipc.serveNet('127.0.0.1', cfg.port, start);
    }
    ipc.server.start();
} else {
    const id = ipc.config.id;
    const connected = () => {
        const c = ipc.of[id];
        if (cfg.mode === 'rtt') {
            const window = cfg.window || 1;
            const sent = [];
            const lat = [];
            let n = 0;
            let running = true;
            const start = now();
            c.on('ping', () => {
                const t = now();
                lat.push(t - sent.shift());
                n++;
                if (running) {
                    sent.push(now());
                    c.emit('ping', payload);
                }
            });
            setTimeout(() => {
                running = false;
                out({ev: 'result', n, secs: (now() - start) / 1e6, ...quantiles(lat)});
                setTimeout(() => process.exit(0), 50);
            }, cfg.seconds * 1000);
            for (let i = 0; i < window; i++) {
                sent.push(now());
                c.emit('ping', payload);
            }
        } else {
            const end = Date.now() + cfg.seconds * 1000;
            const pump = () => {
                if (Date.now() >= end) {
                    c.socket.end();
                    setTimeout(() => process.exit(0), 200);
                    return;
                }
                for (let i = 0; i < 256; i++) {
                    c.emit('m', payload);
                }
                if (c.socket.writableLength > (1 << 20)) {
                    c.socket.once('drain', pump);
                } else {
                    setImmediate(pump);
                }
            };
            pump();
        }
    };
    const onConnect = () => {
        ipc.of[id].once('connect', connected);
    };
    if (cfg.net === 'unix') {
        ipc.connectTo(id, onConnect);
    } else {
        ipc.connectToNet(id, '127.0.0.1', cfg.port, onConnect);
    }
}
