import { createShop } from './shop.js';

const port = Number(process.env.PORT ?? 3000);
const { app } = createShop();

app.listen(port, '127.0.0.1', () => {
  console.log(`sojourn example shop on http://127.0.0.1:${port}
  in a browser: http://127.0.0.1:${port}/account/devices (log in as ann / tea)
  curl -c jar -b jar http://127.0.0.1:${port}/session
  curl -c jar -b jar -H 'content-type: application/json' -d '{"sku":"tea"}' http://127.0.0.1:${port}/cart/items
  curl -c jar -b jar -H 'content-type: application/json' -d '{"username":"ann"}' http://127.0.0.1:${port}/login
  curl -c jar -b jar -X POST http://127.0.0.1:${port}/logout`);
});
