export * from './probe';
export { probeCatalogue } from './catalogue';
export * from './run';
