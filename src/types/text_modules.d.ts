/** Files bundled as text by esbuild (build/bundle.mjs: loader ".cs": "text"). */
declare module "*.cs" {
  const text: string;
  export default text;
}
