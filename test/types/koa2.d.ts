// `koa2` is an npm alias of koa@2 (dev dependency) so the Koa suite runs against both majors; it
// has no types of its own, so it borrows @types/koa's (the surface the tests use is shared).
declare module 'koa2' {
  import Koa = require('koa');
  export = Koa;
}
