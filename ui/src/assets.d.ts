/** Stylesheets imported for their side effect; Bun's HTML bundler puts them in the page's CSS. */
declare module "*.css";
