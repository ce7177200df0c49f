import type { ParamType } from '../definitions/search-param.js';

/** Modifiers Hearth implements, per parameter type (a resource type name is also valid on references). */
export const SUPPORTED_MODIFIERS: Record<ParamType, readonly string[]> = {
  string: ['missing', 'exact', 'contains'],
  token: ['missing', 'text', 'not', 'in', 'not-in'],
  reference: ['missing', 'identifier'],
  date: ['missing'],
  number: ['missing'],
  quantity: ['missing'],
  uri: ['missing', 'above', 'below'],
  composite: ['missing'],
  special: [],
};

/** Modifiers R4 defines that Hearth does not build: answered per `Prefer: handling`. */
export const UNSUPPORTED_MODIFIERS: Record<ParamType, readonly string[]> = {
  string: ['text'],
  token: ['above', 'below', 'of-type'],
  reference: ['above', 'below'],
  date: [],
  number: [],
  quantity: [],
  uri: [],
  composite: [],
  special: [],
};

/** Search result and control parameters R4 defines that Hearth does not build. */
export const UNSUPPORTED_PARAMS = new Set([
  '_text',
  '_content',
  '_filter',
  '_query',
  '_contained',
  '_containedType',
  '_list',
  '_score',
  '_graph',
]);
