// What each example is made of: files of the workspace (paths in www/examples), the mode,
// and for Validate the data and the type. Shared by the page (examples.js) and the example
// test, which reads the files from disk. The two big ones (www/examples/big) are loaded by
// the page only when chosen.

export const EXAMPLES = [
  { id: 'deployment', title: 'A deployment', files: { 'main.lig': 'deployment.lig' } },
  { id: 'unions', title: 'Unions and match', files: { 'main.lig': 'unions.lig' } },
  { id: 'typeclasses', title: 'Type classes', files: { 'main.lig': 'typeclasses.lig' } },
  { id: 'refinements', title: 'Refinement types', files: { 'main.lig': 'refinements.lig' } },
  {
    id: 'imports',
    title: 'Imports across three files',
    files: { 'main.lig': 'imports/main.lig', 'defaults.lig': 'imports/defaults.lig', 'naming.lig': 'imports/naming.lig' },
  },
  {
    id: 'validate',
    title: 'Validating a JSON document',
    mode: 'validate',
    files: { 'main.lig': 'validate/schema.lig' },
    data: 'validate/data.json',
    typeName: 'Deployment',
  },
  { id: 'large', title: 'Large: 10,000 bindings', files: { 'main.lig': 'big/large.lig' } },
  { id: 'compute', title: 'Compute-heavy (threads)', files: { 'main.lig': 'big/compute.lig' } },
];
