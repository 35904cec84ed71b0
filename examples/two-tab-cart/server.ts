import { createCartApp } from './cart.js';

const port = Number(process.env.PORT ?? 3001);
const { app } = createCartApp();

app.listen(port, '127.0.0.1', () => {
  console.log(`sojourn two-tab cart on http://127.0.0.1:${port}
  tab 1: curl -N -c jar -b jar 'http://127.0.0.1:${port}/cart' && curl -N -b jar 'http://127.0.0.1:${port}/cart/events?tab=1'
  tab 2: curl -b jar -H 'content-type: application/json' -d '{"sku":"tea"}' 'http://127.0.0.1:${port}/cart/items?tab=2'`);
});
