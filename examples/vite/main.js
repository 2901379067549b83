// The page Vite serves. connect() with no url finds the kernel in the page's
// "sidegears" parameter, which `sidegears run --dev-server ...` prints; the
// client reconnects by itself when the kernel restarts (sidegears run --reload).
import sidegears from 'sidegears';

const status = document.querySelector('#status');
const button = document.querySelector('#multiply');

sidegears.on('open', () => {
  status.value = 'connected';
  button.disabled = false;
});
sidegears.on('close', () => {
  status.value = 'disconnected';
  button.disabled = true;
});
sidegears.on('reconnecting', ({ attempt }) => {
  status.value = `reconnecting (attempt ${attempt})`;
});

button.addEventListener('click', async () => {
  const a = Number(document.querySelector('#a').value);
  const b = Number(document.querySelector('#b').value);
  document.querySelector('#product').value = await sidegears.requester.multiply(a, b);
});

sidegears.connect().catch((error) => {
  status.value = error.message; // says what to do: e.g. start the app with --dev-server
});
