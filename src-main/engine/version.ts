/** Product name and version, shown in the UI and written into workspace files. */
export const APP_NAME = 'DRIFT Workbench';
export const APP_VERSION = '0.1.0';
