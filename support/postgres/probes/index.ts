export * from './probe';
export { probeCatalogue } from './catalogue';
export * from './run';
export * from './rules';
export * from './lock-waits';
export * from './held-write';
