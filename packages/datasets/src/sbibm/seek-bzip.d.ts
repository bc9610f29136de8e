declare module 'seek-bzip' {
  const Bunzip: {
    /** Decode a whole bzip2 stream (multistream: concatenated streams too). */
    decode(input: Uint8Array, output?: Uint8Array, multistream?: boolean): Buffer;
  };
  export default Bunzip;
}
