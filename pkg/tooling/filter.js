// Which files the plugins compile: among the paths ending in `.lig` (what esbuild's hooks are
// registered for, so that both plugins agree), those `include` matches (default: all) and
// `exclude` does not. Each is a RegExp, a string the path must end with (`'/config/app.lig'`),
// or an array of these. Globs are not supported (that would need a glob library as a
// dependency).

/** `(path) => boolean` for the options' `include` and `exclude`. */
export function fileFilter({ include = /\.lig$/, exclude = [] } = {}) {
  const tests = (patterns, what) =>
    [patterns].flat().map((pattern) => {
      if (pattern instanceof RegExp) return (path) => { pattern.lastIndex = 0; return pattern.test(path); };
      if (typeof pattern === 'string') return (path) => path.endsWith(pattern);
      throw new TypeError(`ligature: ${what} must be a RegExp, a string or an array of them, got ${typeof pattern}`);
    });
  const included = tests(include, 'include');
  const excluded = tests(exclude, 'exclude');
  return (path) => {
    const normal = path.replaceAll('\\', '/');
    return normal.endsWith('.lig') && !normal.startsWith('\0') && included.some((it) => it(normal)) && !excluded.some((it) => it(normal));
  };
}
