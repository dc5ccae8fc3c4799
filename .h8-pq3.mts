import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
const file = await asyncBufferFromFile(process.argv[2]!);
const m = await parquetMetadataAsync(file);
console.log(JSON.stringify(m, (k, v) => typeof v === 'bigint' ? String(v) : v).slice(0, 3000));
console.log('reading');
const rows = await parquetReadObjects({ file, metadata: m, rowStart: 0, rowEnd: 3 });
console.log('rows', rows.length);
