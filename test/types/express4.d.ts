// `express4` is an npm alias of express@4 (dev dependency) so the Express suite runs against both
// majors; it has no types of its own, so it borrows express's (the surface the tests use is shared).
declare module 'express4' {
  import express = require('express');
  export = express;
}
