console.log('shipspeak-db: cli placeholder', process.argv.slice(2));
