// bin/sbq's way into oclif. Bundled together with the commands so oclif and every command share one copy of
// @oclif/core, loaded from a few files instead of the ~150 its package has.
export {execute} from '@oclif/core'
