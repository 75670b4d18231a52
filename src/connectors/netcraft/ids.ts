/** takedown ids are decimal strings (8 digits today); kept opaque, but nothing else names a takedown */
export const NETCRAFT_ID = /^\d{1,20}$/
