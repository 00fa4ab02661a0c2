import os from 'node:os';
import path from 'node:path';

/** n8n's own data folder (`<N8N_USER_FOLDER or home>/.n8n`): embedded defaults live beside it and survive upgrades. */
export function n8nDataFolder(env: NodeJS.ProcessEnv = process.env): string {
	return path.join(env.N8N_USER_FOLDER || os.homedir(), '.n8n');
}
