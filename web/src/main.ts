// The Roomcast web client: the reference app built on @roomcast/client.
// The server bundles this file (and everything it imports, the SDK included)
// with esbuild when it starts; see server/http/web-client.ts.
import { App } from './app.js';

const root = document.getElementById('app');
if (!root) throw new Error('index.html has no #app element');
void new App(root).start();
