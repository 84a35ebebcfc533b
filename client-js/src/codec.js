  // ---- Socket.IO v5 packet codec -------------------------------------------------------------

  // Encodes a Socket.IO packet into the Engine.IO messages that carry it: the text header and
  // one binary message per attachment. Binary values become {"_placeholder":true,"num":N},
  // numbered depth first; EVENT (2) / ACK (3) become BINARY_EVENT (5) / BINARY_ACK (6).
  function encode(type, nsp, data, id) {
    var bins = [];
    var json = data === undefined ? '' : JSON.stringify(pluck(data, bins));
    var n = bins.length;
    if (n) type += 3;
    return [type + (n ? n + '-' : '') + (nsp != '/' ? nsp + ',' : '') + (id == null ? '' : id) + json].concat(bins);
  }
  function pluck(x, bins) {
    var o, k;
    if (isBin(x)) { bins.push(x); return { _placeholder: true, num: bins.length - 1 }; }
    if (x instanceof Array) {
      for (o = [], k = 0; k < x.length; k++) o[k] = pluck(x[k], bins);
      return o;
    }
    if (x && typeof x == 'object' && typeof x.toJSON != 'function') {
      o = {};
      for (k in x) if (own.call(x, k)) o[k] = pluck(x[k], bins);
      return o;
    }
    return x;
  }
  // Puts the attachments back where their placeholders are; throws at a placeholder that
  // names no attachment.
  function plug(x, bins) {
    var k;
    if (x && typeof x == 'object') {
      if (x._placeholder === true) {
        if (!(x.num in bins)) throw x; // the caller's catch makes it a parse error
        return bins[x.num];
      }
      for (k in x) x[k] = plug(x[k], bins);
    }
    return x;
  }
  // Decodes a packet header (the text of an Engine.IO message): {type, n (attachments), nsp,
  // id, data}, or null when it is not valid.
  function decode(s) {
    var m = /^([0-6])(?:(\d+)-)?(?:(\/[^,]*),?)?(\d*)([\s\S]*)$/.exec(s);
    if (!m) return null;
    try {
      return {
        type: +m[1],
        n: +(m[2] || 0),
        nsp: m[3] || '/',
        id: m[4] ? +m[4] : undefined,
        data: m[5] ? JSON.parse(m[5]) : undefined
      };
    } catch (e) { return null; }
  }

